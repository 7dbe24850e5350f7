#include "model/safetensors.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <set>

#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/json.hpp"

namespace medforget {

static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian; a big-endian host would need byte swapping");

namespace {

// The reference implementation refuses headers above 100 MB; so do we.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;
constexpr const char* kMetadataKey = "__metadata__";

// numel × elem, or nullopt-like false on overflow / negative dims.
bool byte_count(const std::vector<int64_t>& shape, size_t elem, uint64_t* out) {
  uint64_t n = elem;
  for (int64_t d : shape) {
    if (d < 0) return false;
    uint64_t ud = static_cast<uint64_t>(d);
    if (ud != 0 && n > std::numeric_limits<uint64_t>::max() / ud) return false;
    n *= ud;
  }
  *out = n;
  return true;
}

struct Entry {
  std::string name;
  uint64_t begin = 0, end = 0;
};

}  // namespace

size_t dtype_size(const std::string& dtype) {
  static const std::map<std::string, size_t> sizes = {
      {"BOOL", 1}, {"U8", 1},  {"I8", 1},  {"F8_E5M2", 1}, {"F8_E4M3", 1},
      {"I16", 2},  {"U16", 2}, {"F16", 2}, {"BF16", 2},    {"I32", 4},
      {"U32", 4},  {"F32", 4}, {"F64", 8}, {"I64", 8},     {"U64", 8}};
  auto it = sizes.find(dtype);
  if (it == sizes.end()) {
    std::string known;
    for (const auto& [k, v] : sizes) known += (known.empty() ? "" : ", ") + k;
    fail("unknown safetensors dtype '" + dtype + "' (known: " + known + ")");
  }
  return it->second;
}

void write_safetensors(const std::filesystem::path& p, const std::map<std::string, RawTensor>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  Json header = Json::object();
  if (!metadata.empty()) {
    Json m = Json::object();
    for (const auto& [k, v] : metadata) m[k] = v;
    header[kMetadataKey] = m;
  }
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {  // std::map: name order
    const std::string ctx = p.string() + ": tensor '" + name + "'";
    if (name.empty()) fail(p.string() + ": a tensor name is empty");
    if (name == kMetadataKey) fail(ctx + ": the name is reserved for metadata");
    size_t elem;
    try {
      elem = dtype_size(t.dtype);
    } catch (const Error& e) {
      fail(ctx + ": " + e.what());
    }
    uint64_t want;
    if (!byte_count(t.shape, elem, &want)) fail(ctx + ": invalid shape " + shape_string(t.shape));
    if (want != t.data.size())
      fail(ctx + ": shape " + shape_string(t.shape) + " × " + t.dtype + " needs " + std::to_string(want) +
           " bytes, data has " + std::to_string(t.data.size()));
    header[name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {offset, offset + want}}};
    offset += want;
  }
  std::string h = header.dump();  // compact; nlohmann objects iterate in sorted key order
  while (h.size() % 8 != 0) h += ' ';

  uint8_t len[8];
  const uint64_t n = h.size();
  for (int i = 0; i < 8; ++i) len[i] = static_cast<uint8_t>(n >> (8 * i));
  std::vector<std::pair<const void*, size_t>> parts{{len, 8}, {h.data(), h.size()}};
  for (const auto& [name, t] : tensors) parts.emplace_back(t.data.data(), t.data.size());
  write_atomic_parts(p, parts);
}

std::map<std::string, TensorSpan> read_safetensors_header(const std::filesystem::path& p,
                                                          std::map<std::string, std::string>* metadata) {
  const std::string file = p.string();
  std::ifstream in(p, std::ios::binary);
  if (!in) fail(file + ": cannot open safetensors file (" + std::strerror(errno) + ")");
  std::error_code ec;
  uint64_t file_size = std::filesystem::file_size(p, ec);
  if (ec) fail(file + ": cannot stat (" + ec.message() + ")");
  if (file_size < 8)
    fail(file + ": truncated safetensors file: " + std::to_string(file_size) +
         " bytes, shorter than the 8-byte header length");

  uint8_t len_bytes[8];
  in.read(reinterpret_cast<char*>(len_bytes), 8);
  if (!in) fail(file + ": cannot read the header length");
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= static_cast<uint64_t>(len_bytes[i]) << (8 * i);
  if (n > file_size - 8)
    fail(file + ": header length " + std::to_string(n) + " exceeds the " + std::to_string(file_size - 8) +
         " bytes after the length field (truncated or not a safetensors file)");
  if (n > kMaxHeaderBytes)
    fail(file + ": header length " + std::to_string(n) + " exceeds the 100 MB limit");
  if (n < 2) fail(file + ": header of " + std::to_string(n) + " bytes cannot hold a JSON object");

  std::string htext(n, '\0');
  in.read(htext.data(), static_cast<std::streamsize>(n));
  if (!in) fail(file + ": cannot read the " + std::to_string(n) + "-byte header");
  if (htext[0] != '{') fail(file + ": malformed header: must start with '{'");

  // Duplicate top-level names would silently shadow each other; refuse them.
  std::set<std::string> seen;
  std::string duplicate;
  Json header;
  try {
    header = Json::parse(htext, [&](int depth, Json::parse_event_t ev, Json& parsed) {
      if (ev == Json::parse_event_t::key && depth == 1) {
        const auto& k = parsed.get_ref<const std::string&>();
        if (!seen.insert(k).second && duplicate.empty()) duplicate = k;
      }
      return true;
    });
  } catch (const Json::exception& e) {
    fail(file + ": malformed JSON header (" + e.what() + ")");
  }
  if (!header.is_object()) fail(file + ": malformed header: expected a JSON object");
  if (!duplicate.empty()) fail(file + ": tensor '" + duplicate + "' appears twice in the header");

  const uint64_t data_size = file_size - 8 - n;
  std::map<std::string, TensorSpan> out;
  std::vector<Entry> entries;
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    const Json& v = it.value();
    if (name == kMetadataKey) {
      if (!v.is_object()) fail(file + ": '__metadata__' must be an object of strings");
      for (auto m = v.begin(); m != v.end(); ++m) {
        if (!m.value().is_string())
          fail(file + ": '__metadata__' key '" + m.key() + "' must be a string, got " + m.value().dump());
        if (metadata) (*metadata)[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    const std::string ctx = file + ": tensor '" + name + "'";
    if (!v.is_object()) fail(ctx + ": expected an object with dtype, shape, data_offsets");
    auto dt = v.find("dtype");
    if (dt == v.end() || !dt->is_string()) fail(ctx + ": 'dtype' missing or not a string");
    TensorSpan t;
    t.dtype = dt->get<std::string>();
    size_t elem;
    try {
      elem = dtype_size(t.dtype);
    } catch (const Error& e) {
      fail(ctx + ": " + e.what());
    }
    auto sh = v.find("shape");
    if (sh == v.end() || !sh->is_array()) fail(ctx + ": 'shape' missing or not an array");
    for (const auto& d : *sh) {
      if (!d.is_number_unsigned()) fail(ctx + ": shape " + sh->dump() + " must hold non-negative integers");
      uint64_t ud = d.get<uint64_t>();
      if (ud > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        fail(ctx + ": shape dimension " + std::to_string(ud) + " too large");
      t.shape.push_back(static_cast<int64_t>(ud));
    }
    auto off = v.find("data_offsets");
    if (off == v.end() || !off->is_array() || off->size() != 2 || !(*off)[0].is_number_unsigned() ||
        !(*off)[1].is_number_unsigned())
      fail(ctx + ": 'data_offsets' must be [begin, end] with non-negative integers");
    Entry e{name, (*off)[0].get<uint64_t>(), (*off)[1].get<uint64_t>()};
    if (e.end < e.begin)
      fail(ctx + ": data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) + "] end before begin");
    uint64_t want;
    if (!byte_count(t.shape, elem, &want)) fail(ctx + ": shape " + shape_string(t.shape) + " overflows");
    if (want != e.end - e.begin)
      fail(ctx + ": shape " + shape_string(t.shape) + " × " + t.dtype + " (" + std::to_string(elem) + " bytes) = " +
           std::to_string(want) + " bytes, but data_offsets [" + std::to_string(e.begin) + ", " +
           std::to_string(e.end) + "] span " + std::to_string(e.end - e.begin));
    if (e.end > data_size)
      fail(ctx + ": data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) +
           "] lie outside the " + std::to_string(data_size) + "-byte data section (truncated file?)");
    entries.push_back(e);
    t.offset = 8 + n + e.begin;
    t.bytes = e.end - e.begin;
    out.emplace(name, std::move(t));
  }

  // The ranges must tile the data section exactly: no overlap, no gap, no tail.
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t pos = 0;
  const Entry* prev = nullptr;
  for (const auto& e : entries) {
    if (e.begin < pos)
      fail(file + ": tensor '" + e.name + "' range [" + std::to_string(e.begin) + ", " + std::to_string(e.end) +
           ") overlaps tensor '" + prev->name + "' range [" + std::to_string(prev->begin) + ", " +
           std::to_string(prev->end) + ")");
    if (e.begin > pos)
      fail(file + ": tensor '" + e.name + "' starts at " + std::to_string(e.begin) + ", leaving bytes [" +
           std::to_string(pos) + ", " + std::to_string(e.begin) + ") of the data section unused");
    pos = e.end;
    prev = &e;
  }
  if (pos != data_size)
    fail(file + ": the tensors cover " + std::to_string(pos) + " bytes of the " + std::to_string(data_size) +
         "-byte data section" + (prev ? " (last tensor '" + prev->name + "')" : std::string()));

  return out;
}

std::map<std::string, RawTensor> read_safetensors(const std::filesystem::path& p,
                                                  std::map<std::string, std::string>* metadata) {
  const auto spans = read_safetensors_header(p, metadata);
  std::ifstream in(p, std::ios::binary);
  if (!in) fail(p.string() + ": cannot open safetensors file (" + std::strerror(errno) + ")");
  std::vector<std::pair<uint64_t, const std::string*>> order;  // read the data section once, in file order
  for (const auto& [name, t] : spans) order.emplace_back(t.offset, &name);
  std::sort(order.begin(), order.end());
  std::map<std::string, RawTensor> out;
  for (const auto& [offset, name] : order) {
    const TensorSpan& s = spans.at(*name);
    RawTensor& t = out[*name];
    t.dtype = s.dtype;
    t.shape = s.shape;
    t.data.resize(s.bytes);
    if (t.data.empty()) continue;
    in.seekg(static_cast<std::streamoff>(offset));
    in.read(reinterpret_cast<char*>(t.data.data()), static_cast<std::streamsize>(t.data.size()));
    if (!in) fail(p.string() + ": tensor '" + *name + "': cannot read its data (file changed while reading?)");
  }
  return out;
}

MappedFile::MappedFile(const std::filesystem::path& p) : path_(p) {
  const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(p.string() + ": cannot open (" + std::strerror(errno) + ")");
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    fail(p.string() + ": cannot stat (" + std::strerror(err) + ")");
  }
  size_ = static_cast<size_t>(st.st_size);
  if (size_ > 0) {
    void* m = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (m == MAP_FAILED) {
      const int err = errno;
      ::close(fd);
      fail(p.string() + ": cannot map into memory (" + std::strerror(err) + ")");
    }
    data_ = static_cast<const uint8_t*>(m);
  }
  ::close(fd);
}

MappedFile::~MappedFile() {
  if (data_) ::munmap(const_cast<uint8_t*>(data_), size_);
}

void MappedFile::release(uint64_t offset, uint64_t bytes) const {
  if (!data_ || bytes == 0) return;
  // Whole pages inside the range only: a neighbour's pages stay.
  const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  const uint64_t begin = (offset + page - 1) / page * page, end = (offset + bytes) / page * page;
  if (end > begin) ::madvise(const_cast<uint8_t*>(data_) + begin, end - begin, MADV_DONTNEED);
}

std::string shape_string(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

}  // namespace medforget
