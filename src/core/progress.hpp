#pragma once
// A progress bar on stderr with rate and ETA; redraws at most every 100 ms and
// prints plain lines when stderr is not a terminal (logs, CI).
#include <chrono>
#include <string>

namespace medforget {

class Progress {
 public:
  Progress(std::string label, size_t total);
  ~Progress();
  void tick(size_t n = 1, const std::string& extra = "");
  // Marks n units as done before this run started (a resumed job): they count
  // towards the bar but not towards the rate and ETA.
  void skip(size_t n);
  void done();
  double rate() const;         // units per second done in this run
  double eta_seconds() const;  // at that rate; 0 when unknown or finished

 private:
  void draw(bool final);
  std::string label_, extra_;
  size_t total_, count_ = 0, skipped_ = 0;
  std::chrono::steady_clock::time_point start_, last_;
  bool tty_, finished_ = false;
  int last_decile_ = -1;
};

// Logging to stderr; MEDFORGET_QUIET=1 silences info lines.
// The current time in UTC, ISO 8601 to the second ("2026-12-06T01:02:03Z").
std::string utc_now();
void log_info(const std::string& msg);
void log_warn(const std::string& msg);

}  // namespace medforget
