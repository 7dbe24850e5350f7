#include "data/corpus.hpp"

#include <set>

#include "core/digest.hpp"
#include "core/error.hpp"
#include "core/ids.hpp"
#include "core/manifest.hpp"

namespace medforget {

static std::string certainty_name(Certainty c) { return c == Certainty::Present ? "present" : "uncertain"; }

Json finding_to_json(const Finding& f) {
  return {{"observation", observation_key(f.obs)},
          {"certainty", certainty_name(f.certainty)},
          {"laterality", f.laterality},
          {"severity", f.severity},
          {"detail", f.detail}};
}

Finding finding_from_json(const Json& j, const JsonCtx& ctx) {
  Finding f;
  try {
    f.obs = observation_from_key(get_string(j, "observation", ctx));
  } catch (const Error& e) {
    fail(where(ctx.file, ctx.line, "observation") + ": " + e.what());
  }
  std::string c = get_string(j, "certainty", ctx);
  if (c == "present")
    f.certainty = Certainty::Present;
  else if (c == "uncertain")
    f.certainty = Certainty::Uncertain;
  else
    fail(where(ctx.file, ctx.line, "certainty") + ": expected 'present' or 'uncertain', got '" + c + "'");
  f.laterality = get_string(j, "laterality", ctx);
  f.severity = get_string(j, "severity", ctx);
  f.detail = get_string(j, "detail", ctx);
  return f;
}

void save_corpus_json(const Corpus& c, const std::filesystem::path& dir) {
  Json insts = Json::array();
  for (const auto& in : c.institutions) {
    Json pats = Json::array();
    for (const auto& p : in.patients) {
      Json studies = Json::array();
      for (const auto& s : p.studies) {
        Json fs = Json::array();
        for (const auto& f : s.findings) fs.push_back(finding_to_json(f));
        studies.push_back({{"id", s.id},
                           {"date", s.date},
                           {"report_text", s.report_text},
                           {"image", s.image},
                           {"findings", fs},
                           {"source_ref", s.source_ref}});
      }
      pats.push_back(
          {{"id", p.id}, {"name", p.name}, {"age", p.age}, {"sex", p.sex}, {"studies", studies}});
    }
    insts.push_back({{"id", in.id}, {"name", in.name}, {"style", in.style}, {"patients", pats}});
  }
  Json j = {{"format", "medforget-corpus"},
            {"format_version", 1},
            {"source", c.source},
            {"seed", c.seed},
            {"image_size", c.image_size},
            {"institutions", insts}};
  write_json(dir / "corpus.json", j);
}

Corpus load_corpus(const std::filesystem::path& dir) {
  const auto file = (dir / "corpus.json").string();
  if (!std::filesystem::exists(dir / "corpus.json"))
    fail(file + ": missing (expected a corpus directory made by `medforget data synth` or an importer)");
  Json j = read_json(dir / "corpus.json");
  JsonCtx ctx{file, 0};
  if (get_string(j, "format", ctx) != "medforget-corpus")
    fail(where(file, 0, "format") + ": expected 'medforget-corpus'");
  if (get_int(j, "format_version", ctx) != 1) fail(where(file, 0, "format_version") + ": expected 1");
  Corpus c;
  c.source = get_string(j, "source", ctx);
  c.seed = static_cast<uint64_t>(get_int(j, "seed", ctx));
  c.image_size = static_cast<int>(get_int(j, "image_size", ctx));
  if (c.image_size < 16 || c.image_size > 1024)
    fail(where(file, 0, "image_size") + ": expected 16..1024, got " + std::to_string(c.image_size));
  std::set<std::string> ids;
  auto unique = [&](const std::string& id, const std::string& rec) {
    if (id.empty()) fail(rec + ": empty id");
    check_path_id(id, "node", rec);
    if (!ids.insert(id).second) fail(rec + ": duplicate id '" + id + "'");
  };
  for (const auto& ij : get_array(j, "institutions", ctx)) {
    InstitutionRecord in;
    JsonCtx ictx{file + " institution #" + std::to_string(c.institutions.size() + 1), 0};
    in.id = get_string(ij, "id", ictx);
    unique(in.id, ictx.file);
    in.name = get_string(ij, "name", ictx);
    in.style = get_object(ij, "style", ictx);
    for (const auto& pj : get_array(ij, "patients", ictx)) {
      PatientRecord p;
      JsonCtx pctx{file + " institution '" + in.id + "' patient #" + std::to_string(in.patients.size() + 1), 0};
      p.id = get_string(pj, "id", pctx);
      unique(p.id, pctx.file);
      p.name = get_string(pj, "name", pctx);
      p.age = static_cast<int>(get_int(pj, "age", pctx));
      p.sex = get_string(pj, "sex", pctx);
      for (const auto& sj : get_array(pj, "studies", pctx)) {
        StudyRecord s;
        JsonCtx sctx{file + " patient '" + p.id + "' study #" + std::to_string(p.studies.size() + 1), 0};
        s.id = get_string(sj, "id", sctx);
        unique(s.id, sctx.file);
        s.date = get_string(sj, "date", sctx);
        s.report_text = get_string(sj, "report_text", sctx);
        s.image = get_string(sj, "image", sctx);
        check_relative_path(s.image, where(sctx.file, 0, "image"));
        s.source_ref = get_string(sj, "source_ref", sctx);
        for (const auto& fj : get_array(sj, "findings", sctx)) s.findings.push_back(finding_from_json(fj, sctx));
        // The error_code form: a path the system refuses (longer than PATH_MAX) is missing too.
        std::error_code ec;
        if (!std::filesystem::exists(dir / s.image, ec))
          fail(where(sctx.file, 0, "image") + ": image file '" + (dir / s.image).string() + "' is missing" +
               (ec ? " (" + ec.message() + ")" : ""));
        p.studies.push_back(std::move(s));
      }
      in.patients.push_back(std::move(p));
    }
    c.institutions.push_back(std::move(in));
  }
  return c;
}

std::string corpus_digest(const std::filesystem::path& dir) {
  if (std::filesystem::exists(dir / "manifest.json"))
    return read_verified_manifest(dir, "corpus").at("content_digest").get<std::string>();
  if (!std::filesystem::exists(dir / "corpus.json"))
    fail((dir / "corpus.json").string() + ": missing (expected a corpus directory made by `medforget data synth` or an importer)");
  return sha256_file(dir / "corpus.json");
}

}  // namespace medforget
