#include "model/safetensors.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <random>

#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/json.hpp"
#include "test_util.hpp"

using namespace medforget;
using medforget::test::error_of;
using medforget::test::expect_contains;
using medforget::test::TempDir;

namespace {

template <class T>
std::vector<uint8_t> bytes_of(const std::vector<T>& v) {
  std::vector<uint8_t> b(v.size() * sizeof(T));
  if (!b.empty()) std::memcpy(b.data(), v.data(), b.size());
  return b;
}

std::vector<uint8_t> random_bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> b(n);
  for (auto& x : b) x = static_cast<uint8_t>(rng());
  return b;
}

// A file laid out exactly as the spec says: u64 LE header length, header, data.
void write_raw(const std::filesystem::path& p, const std::string& header, const std::vector<uint8_t>& data,
               uint64_t claimed_len = UINT64_MAX) {
  uint64_t n = claimed_len == UINT64_MAX ? header.size() : claimed_len;
  std::string out;
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  out += header;
  out.append(data.begin(), data.end());
  std::ofstream(p, std::ios::binary) << out;
}

std::map<std::string, RawTensor> every_dtype() {
  std::map<std::string, RawTensor> m;
  const float finf = std::numeric_limits<float>::infinity();
  const double dinf = std::numeric_limits<double>::infinity();
  m["f32"] = {"F32", {2, 3}, bytes_of(std::vector<float>{1.5f, -0.0f, finf, -finf,
                                                         std::numeric_limits<float>::quiet_NaN(),
                                                         std::numeric_limits<float>::denorm_min()})};
  // A NaN with a payload must survive unchanged.
  uint32_t nan_payload = 0x7fc12345u;
  std::memcpy(m["f32"].data.data() + 16, &nan_payload, 4);
  m["f64"] = {"F64", {4}, bytes_of(std::vector<double>{dinf, -dinf, std::nan("7"), 1e-310})};
  m["f16"] = {"F16", {3}, bytes_of(std::vector<uint16_t>{0x7c00, 0xfc00, 0x7e01})};   // +inf, -inf, NaN
  m["bf16"] = {"BF16", {3}, bytes_of(std::vector<uint16_t>{0x7f80, 0xff80, 0x7fc1})};  // +inf, -inf, NaN
  m["i64"] = {"I64", {2}, bytes_of(std::vector<int64_t>{std::numeric_limits<int64_t>::min(), -1})};
  m["i32"] = {"I32", {1, 1, 2}, bytes_of(std::vector<int32_t>{-7, 1 << 30})};
  m["i16"] = {"I16", {2}, bytes_of(std::vector<int16_t>{-32768, 32767})};
  m["i8"] = {"I8", {3}, bytes_of(std::vector<int8_t>{-128, 0, 127})};
  m["u8"] = {"U8", {5}, random_bytes(5, 3)};
  m["bool"] = {"BOOL", {4}, {1, 0, 0, 1}};
  m["u16"] = {"U16", {2}, random_bytes(4, 4)};
  m["u32"] = {"U32", {2}, random_bytes(8, 5)};
  m["u64"] = {"U64", {1}, random_bytes(8, 6)};
  m["f8"] = {"F8_E4M3", {3}, random_bytes(3, 7)};
  m["empty"] = {"F32", {0, 4}, {}};
  m["empty_bf16"] = {"BF16", {3, 0}, {}};
  m["scalar"] = {"F32", {}, bytes_of(std::vector<float>{42.0f})};
  m["big"] = {"F32", {17, 33}, random_bytes(17 * 33 * 4, 9)};
  return m;
}

}  // namespace

TEST(Safetensors, DtypeSizes) {
  EXPECT_EQ(dtype_size("F64"), 8u);
  EXPECT_EQ(dtype_size("F32"), 4u);
  EXPECT_EQ(dtype_size("F16"), 2u);
  EXPECT_EQ(dtype_size("BF16"), 2u);
  EXPECT_EQ(dtype_size("I64"), 8u);
  EXPECT_EQ(dtype_size("I32"), 4u);
  EXPECT_EQ(dtype_size("I16"), 2u);
  EXPECT_EQ(dtype_size("I8"), 1u);
  EXPECT_EQ(dtype_size("U8"), 1u);
  EXPECT_EQ(dtype_size("BOOL"), 1u);
  expect_contains(error_of([] { dtype_size("float32"); }), "float32");
}

TEST(Safetensors, RoundTripEveryDtypeBitExact) {
  TempDir tmp;
  auto tensors = every_dtype();
  std::map<std::string, std::string> meta = {{"format", "pt"}, {"note", "ünïcode \"quoted\""}};
  write_safetensors(tmp / "t.safetensors", tensors, meta);
  std::map<std::string, std::string> got_meta;
  auto got = read_safetensors(tmp / "t.safetensors", &got_meta);
  EXPECT_EQ(got_meta, meta);
  ASSERT_EQ(got.size(), tensors.size());
  for (const auto& [name, t] : tensors) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(got.count(name));
    EXPECT_EQ(got[name].dtype, t.dtype);
    EXPECT_EQ(got[name].shape, t.shape);
    EXPECT_EQ(got[name].data, t.data);
  }
}

TEST(Safetensors, EmptyFileAndNoMetadata) {
  TempDir tmp;
  write_safetensors(tmp / "e.safetensors", {});
  std::map<std::string, std::string> meta;
  EXPECT_TRUE(read_safetensors(tmp / "e.safetensors", &meta).empty());
  EXPECT_TRUE(meta.empty());
}

TEST(Safetensors, DeterministicBytesAndSpecLayout) {
  TempDir tmp;
  auto tensors = every_dtype();
  write_safetensors(tmp / "a.safetensors", tensors, {{"format", "pt"}});
  write_safetensors(tmp / "b.safetensors", tensors, {{"format", "pt"}});
  auto a = read_bytes(tmp / "a.safetensors");
  auto b = read_bytes(tmp / "b.safetensors");
  EXPECT_EQ(a, b);

  // Parse the file by hand, as any other implementation would.
  ASSERT_GE(a.size(), 8u);
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= static_cast<uint64_t>(a[i]) << (8 * i);
  EXPECT_EQ(n % 8, 0u) << "header padded to a multiple of 8";
  std::string header(a.begin() + 8, a.begin() + 8 + static_cast<long>(n));
  EXPECT_EQ(header.front(), '{');
  EXPECT_EQ(header.find('\n'), std::string::npos);
  Json h = Json::parse(header);
  EXPECT_EQ(h["__metadata__"]["format"], "pt");
  const uint8_t* data = a.data() + 8 + n;
  uint64_t pos = 0;
  for (const auto& [name, t] : tensors) {  // name order
    SCOPED_TRACE(name);
    EXPECT_EQ(h[name]["dtype"], t.dtype);
    EXPECT_EQ(h[name]["shape"].get<std::vector<int64_t>>(), t.shape);
    auto off = h[name]["data_offsets"].get<std::vector<uint64_t>>();
    EXPECT_EQ(off[0], pos);
    EXPECT_EQ(off[1], pos + t.data.size());
    if (!t.data.empty()) {  // an empty vector's data() may be null
      EXPECT_EQ(0, std::memcmp(data + off[0], t.data.data(), t.data.size()));
    }
    pos = off[1];
  }
  EXPECT_EQ(8 + n + pos, a.size());
}

TEST(Safetensors, HandConstructedFileFromSpec) {
  TempDir tmp;
  // Tensors stored out of name order, unpadded header, metadata last: all legal.
  std::string header =
      R"({"weight":{"dtype":"F32","shape":[2,2],"data_offsets":[8,24]},)"
      R"("ids":{"dtype":"I64","shape":[1],"data_offsets":[0,8]},)"
      R"("half":{"dtype":"BF16","shape":[1],"data_offsets":[24,26]},)"
      R"("__metadata__":{"format":"pt"}})";
  std::vector<uint8_t> data = {
      0x07, 0, 0, 0, 0, 0, 0, 0,          // ids: int64 7
      0x00, 0x00, 0x80, 0x3f,             // 1.0f
      0x00, 0x00, 0x00, 0xc0,             // -2.0f
      0x00, 0x00, 0x00, 0x00,             // 0.0f
      0x00, 0x00, 0xc0, 0x7f,             // NaN
      0x80, 0x3f,                         // bf16 1.0
  };
  write_raw(tmp / "h.safetensors", header, data);
  std::map<std::string, std::string> meta;
  auto t = read_safetensors(tmp / "h.safetensors", &meta);
  EXPECT_EQ(meta.at("format"), "pt");
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t["ids"].dtype, "I64");
  int64_t id;
  std::memcpy(&id, t["ids"].data.data(), 8);
  EXPECT_EQ(id, 7);
  EXPECT_EQ(t["weight"].shape, (std::vector<int64_t>{2, 2}));
  float w[4];
  ASSERT_EQ(t["weight"].data.size(), 16u);
  std::memcpy(w, t["weight"].data.data(), 16);
  EXPECT_EQ(w[0], 1.0f);
  EXPECT_EQ(w[1], -2.0f);
  EXPECT_EQ(w[2], 0.0f);
  EXPECT_TRUE(std::isnan(w[3]));
  EXPECT_EQ(t["half"].data, (std::vector<uint8_t>{0x80, 0x3f}));

  // Padded with spaces (as the reference writer does) reads the same.
  std::string padded = header;
  while (padded.size() % 8) padded += ' ';
  padded += "        ";
  write_raw(tmp / "p.safetensors", padded, data);
  auto t2 = read_safetensors(tmp / "p.safetensors");
  EXPECT_EQ(t2["weight"].data, t["weight"].data);
}

TEST(Safetensors, WriteRejectsInconsistentTensors) {
  TempDir tmp;
  std::map<std::string, RawTensor> m;
  m["w"] = {"F32", {3}, std::vector<uint8_t>(8)};
  auto msg = error_of([&] { write_safetensors(tmp / "x.safetensors", m); });
  expect_contains(msg, "'w'");
  expect_contains(msg, "12");
  m["w"] = {"Q4", {2}, std::vector<uint8_t>(8)};
  expect_contains(error_of([&] { write_safetensors(tmp / "x.safetensors", m); }), "Q4");
  EXPECT_FALSE(std::filesystem::exists(tmp / "x.safetensors"));
}

TEST(Safetensors, CorruptShortFile) {
  TempDir tmp;
  auto p = tmp / "short.safetensors";
  std::ofstream(p, std::ios::binary) << "abc";
  auto msg = error_of([&] { read_safetensors(p); });
  expect_contains(msg, p.string());
  expect_contains(msg, "8-byte");
}

TEST(Safetensors, CorruptHeaderLengthLargerThanFile) {
  TempDir tmp;
  auto p = tmp / "len.safetensors";
  write_raw(p, R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})", {1}, 1000);
  auto msg = error_of([&] { read_safetensors(p); });
  expect_contains(msg, p.string());
  expect_contains(msg, "header length 1000");
}

TEST(Safetensors, CorruptTruncatedFile) {
  TempDir tmp;
  std::map<std::string, RawTensor> m;
  m["alpha"] = {"F32", {4}, random_bytes(16, 1)};
  m["zeta"] = {"F32", {4}, random_bytes(16, 2)};
  auto p = tmp / "trunc.safetensors";
  write_safetensors(p, m);
  auto full = read_bytes(p);

  // Cut in the data section: the last tensor's range lies outside it.
  std::vector<uint8_t> cut(full.begin(), full.end() - 5);
  write_atomic(p, cut);
  auto msg = error_of([&] { read_safetensors(p); });
  expect_contains(msg, p.string());
  expect_contains(msg, "'zeta'");
  expect_contains(msg, "outside");

  // Cut in the header: the header length exceeds the file.
  std::vector<uint8_t> cut2(full.begin(), full.begin() + 20);
  write_atomic(p, cut2);
  msg = error_of([&] { read_safetensors(p); });
  expect_contains(msg, p.string());
  expect_contains(msg, "header length");
}

TEST(Safetensors, CorruptHeaderLiesAboutSize) {
  TempDir tmp;
  auto p = tmp / "lie.safetensors";
  write_raw(p, R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", std::vector<uint8_t>(8));
  auto msg = error_of([&] { read_safetensors(p); });
  expect_contains(msg, p.string());
  expect_contains(msg, "'w'");
  expect_contains(msg, "12 bytes");
}

TEST(Safetensors, CorruptOverlappingRanges) {
  TempDir tmp;
  auto p = tmp / "overlap.safetensors";
  write_raw(p,
            R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
            R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
            std::vector<uint8_t>(12));
  auto msg = error_of([&] { read_safetensors(p); });
  expect_contains(msg, p.string());
  expect_contains(msg, "overlaps");
  expect_contains(msg, "'a'");
  expect_contains(msg, "'b'");
}

TEST(Safetensors, CorruptRangesNotCoveringData) {
  TempDir tmp;
  auto p = tmp / "gap.safetensors";
  write_raw(p, R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", std::vector<uint8_t>(12));
  expect_contains(error_of([&] { read_safetensors(p); }), "unused");
  write_raw(p, R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", std::vector<uint8_t>(12));
  auto msg = error_of([&] { read_safetensors(p); });
  expect_contains(msg, "cover 8 bytes of the 12-byte");
  expect_contains(msg, "'a'");
}

TEST(Safetensors, CorruptGarbageJson) {
  TempDir tmp;
  auto p = tmp / "garbage.safetensors";
  write_raw(p, R"({"a":{"dtype":"F32",,,)", std::vector<uint8_t>(4));
  auto msg = error_of([&] { read_safetensors(p); });
  expect_contains(msg, p.string());
  expect_contains(msg, "malformed JSON");
  write_raw(p, "\x01\x02\x03\x04", {});
  expect_contains(error_of([&] { read_safetensors(p); }), "must start with '{'");
  write_raw(p, R"({"a":[1,2]})", {});
  expect_contains(error_of([&] { read_safetensors(p); }), "'a'");
}

TEST(Safetensors, CorruptUnknownDtype) {
  TempDir tmp;
  auto p = tmp / "dtype.safetensors";
  write_raw(p, R"({"emb":{"dtype":"F42","shape":[1],"data_offsets":[0,4]}})", std::vector<uint8_t>(4));
  auto msg = error_of([&] { read_safetensors(p); });
  expect_contains(msg, p.string());
  expect_contains(msg, "'emb'");
  expect_contains(msg, "F42");
}

TEST(Safetensors, CorruptFieldTypesAndDuplicates) {
  TempDir tmp;
  auto p = tmp / "fields.safetensors";
  write_raw(p, R"({"a":{"dtype":"U8","shape":[-1],"data_offsets":[0,1]}})", {1});
  expect_contains(error_of([&] { read_safetensors(p); }), "non-negative");
  write_raw(p, R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[1,0]}})", {1});
  expect_contains(error_of([&] { read_safetensors(p); }), "'a'");
  write_raw(p, R"({"a":{"dtype":"U8","shape":[1]}})", {1});
  expect_contains(error_of([&] { read_safetensors(p); }), "data_offsets");
  write_raw(p,
            R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
            R"("a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})",
            {1, 2});
  expect_contains(error_of([&] { read_safetensors(p); }), "appears twice");
  write_raw(p, R"({"__metadata__":{"k":1}})", {});
  expect_contains(error_of([&] { read_safetensors(p); }), "__metadata__");
  write_raw(p, R"({"a":{"dtype":"U8","shape":[4611686018427387904, 4],"data_offsets":[0,1]}})", {1});
  expect_contains(error_of([&] { read_safetensors(p); }), "'a'");
}

TEST(Safetensors, MissingFile) {
  TempDir tmp;
  expect_contains(error_of([&] { read_safetensors(tmp / "nope.safetensors"); }), "nope.safetensors");
}

// Test vectors of the reference implementation's test suite (huggingface/safetensors,
// mirrored by its Go port): byte strings that must parse or must be refused.
TEST(Safetensors, ReferenceTestVectors) {
  TempDir tmp;
  auto parse = [&](const std::string& bytes) {
    auto p = tmp / "v.safetensors";
    std::ofstream(p, std::ios::binary | std::ios::trunc) << bytes;
    return read_safetensors(p);
  };
  using namespace std::string_literals;
  // Scalar (empty shape).
  auto t = parse("8\0\0\0\0\0\0\0"s + R"({"test":{"dtype":"I32","shape":[],"data_offsets":[0,4]}})" + "\x01\0\0\0"s);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t["test"].dtype, "I32");
  EXPECT_TRUE(t["test"].shape.empty());
  EXPECT_EQ(t["test"].data, (std::vector<uint8_t>{1, 0, 0, 0}));
  // Zero-sized tensor.
  t = parse("<\0\0\0\0\0\0\0"s + R"({"test":{"dtype":"I32","shape":[2,0],"data_offsets":[0, 0]}})");
  EXPECT_EQ(t["test"].shape, (std::vector<int64_t>{2, 0}));
  EXPECT_TRUE(t["test"].data.empty());

  const std::string h16 = R"({"test":{"dtype":"I32","shape":[2,2],"data_offsets":[0,16]}})";
  const std::string zeros16(16, '\0');
  const std::vector<std::pair<const char*, std::string>> bad = {
      {"extra data", "<\0\0\0\0\0\0\0"s + h16 + zeros16 + "extra_bogus_data_for_polyglot_file"},
      {"missing data", "<\0\0\0\0\0\0\0"s + h16 + zeros16.substr(0, 14)},
      {"header too large", "<\0\0\0\0\xff\xff\xff"s + h16 + zeros16},
      {"0 bytes", ""s},
      {"7 bytes", "\0\0\0\0\0\0\0"s},
      {"length without header", "<\0\0\0\0\0\0\0"s},
      {"non-UTF8 header", "\x01\0\0\0\0\0\0\0\xff"s},
      {"unterminated JSON", "\x01\0\0\0\0\0\0\0{"s},
      {"offsets mismatch", "<\0\0\0\0\0\0\0"s + R"({"test":{"dtype":"I32","shape":[2,2],"data_offsets":[0, 4]}})"},
      {"element count overflow", "N\0\0\0\0\0\0\0"s +
                                     R"({"test":{"dtype":"I32","shape":[2,9223372036854775807],"data_offsets":[0,16]}})" +
                                     zeros16},
      {"shape overflow", "O\0\0\0\0\0\0\0"s +
                             R"({"test":{"dtype":"I32","shape":[2,18446744073709551614],"data_offsets":[0,16]}})" +
                             zeros16},
      {"same offsets twice", "\x75\0\0\0\0\0\0\0"s + R"({"test1":{"dtype":"I32","shape":[1],"data_offsets":[0, 4]},)" +
                                 R"("test2":{"dtype":"I32","shape":[1],"data_offsets":[0, 4]}})"},
  };
  for (const auto& [what, bytes] : bad) {
    SCOPED_TRACE(what);
    expect_contains(error_of([&] { parse(bytes); }), "v.safetensors");
  }
}
