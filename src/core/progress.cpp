#include "core/progress.hpp"

#include <ctime>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace medforget {

static bool quiet() {
  const char* q = std::getenv("MEDFORGET_QUIET");
  return q && *q && *q != '0';
}

void log_info(const std::string& msg) {
  if (!quiet()) std::fprintf(stderr, "[medforget] %s\n", msg.c_str());
}
void log_warn(const std::string& msg) { std::fprintf(stderr, "[medforget] WARNING: %s\n", msg.c_str()); }

Progress::Progress(std::string label, size_t total)
    : label_(std::move(label)),
      total_(total),
      start_(std::chrono::steady_clock::now()),
      last_(start_),
      tty_(isatty(STDERR_FILENO) && !quiet()) {}

Progress::~Progress() {
  if (!finished_) done();
}

void Progress::tick(size_t n, const std::string& extra) {
  count_ += n;
  if (!extra.empty()) extra_ = extra;
  auto now = std::chrono::steady_clock::now();
  if (tty_ && now - last_ > std::chrono::milliseconds(100)) {
    last_ = now;
    draw(false);
  } else if (!tty_ && total_ > 0) {
    int decile = static_cast<int>(10 * count_ / total_);
    if (decile != last_decile_ && decile < 10) {
      last_decile_ = decile;
      draw(false);
    }
  }
}

void Progress::skip(size_t n) {
  count_ += n;
  skipped_ += n;
}

double Progress::rate() const {
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  return secs > 0 ? static_cast<double>(count_ - skipped_) / secs : 0.0;
}

double Progress::eta_seconds() const {
  double r = rate();
  return (r > 0 && total_ > count_) ? static_cast<double>(total_ - count_) / r : 0.0;
}

void Progress::done() {
  if (finished_) return;
  finished_ = true;
  draw(true);
}

void Progress::draw(bool final) {
  if (quiet()) return;
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  double rate = this->rate(), eta = eta_seconds();
  int width = 24;
  int fill = total_ ? static_cast<int>(width * std::min<size_t>(count_, total_) / total_) : width;
  std::string bar(fill, '#');
  bar += std::string(width - fill, '.');
  char buf[512];
  if (final)
    std::snprintf(buf, sizeof buf, "%s [%s] %zu/%zu in %.1fs (%.1f/s) %s", label_.c_str(), bar.c_str(),
                  count_, total_, secs, rate, extra_.c_str());
  else
    std::snprintf(buf, sizeof buf, "%s [%s] %zu/%zu %.1f/s ETA %.0fs %s", label_.c_str(), bar.c_str(),
                  count_, total_, rate, eta, extra_.c_str());
  if (tty_)
    std::fprintf(stderr, "\r\033[K%s%s", buf, final ? "\n" : "");
  else
    std::fprintf(stderr, "%s\n", buf);
  std::fflush(stderr);
}

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  char b[32];
  std::strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return b;
}

}  // namespace medforget
