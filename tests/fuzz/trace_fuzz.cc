// Fuzz target: the trace reader (recorder/trace_reader.h) reading a whole file to its end.
// First byte: bit 0 clear - the rest is the file as is; set - the rest is a list of chunk
// contents {u32 length, u32 epochs, raw records} that this target compresses and checksums into
// a well-formed file (so mutations reach zstd-decoded records); bit 1 adds an index and footer;
// bit 2 reads leniently (corruption ends the prefix instead of failing).
#include <sys/mman.h>
#include <unistd.h>
#include <zstd.h>

#include <cstdint>
#include <string>
#include <vector>

#include "recorder/crc32c.h"
#include "recorder/trace_format.h"
#include "recorder/trace_reader.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using namespace thalia::recorder;

// Counts size-prefixed records the way a chunk's header must (a cut last record counts too).
uint32_t CountRecords(const std::vector<uint8_t>& raw) {
  uint32_t n = 0;
  for (size_t p = 0; p + 4 <= raw.size(); ++n) p += 4 + size_t{thalia::fuzz::LoadU32(raw.data() + p)};
  return n;
}

std::vector<uint8_t> BuildFile(const uint8_t* data, size_t size, bool footer) {
  std::vector<uint8_t> file(kFileHeaderSize, 0);
  std::memcpy(file.data(), kFileMagic, sizeof(kFileMagic));
  PutU32(file.data() + 8, kTraceFormatVersion);
  std::vector<IndexEntry> index;
  uint64_t epoch = 0;
  size_t p = 0;
  while (p + 8 <= size) {
    size_t len = thalia::fuzz::LoadU32(data + p);
    uint32_t epochs = thalia::fuzz::LoadU32(data + p + 4) & 0xffff;
    p += 8;
    if (len > size - p) len = size - p;
    std::vector<uint8_t> raw(data + p, data + p + len);
    p += len;
    std::vector<uint8_t> z(ZSTD_compressBound(raw.size()));
    size_t n = ZSTD_compress(z.data(), z.size(), raw.data(), raw.size(), 1);
    if (ZSTD_isError(n)) return file;
    ChunkHeader h;
    h.payload_length = static_cast<uint32_t>(n);
    h.raw_length = static_cast<uint32_t>(raw.size());
    h.first_epoch = epoch;
    h.epoch_count = epochs;
    h.record_count = CountRecords(raw);
    uint8_t hb[kChunkHeaderSize];
    EncodeChunkHeader(h, hb);
    PutU32(hb + 4, Crc32cExtend(Crc32c(hb + 8, kChunkHeaderSize - 8), z.data(), n));
    index.push_back({file.size(), epoch, epochs});
    file.insert(file.end(), hb, hb + kChunkHeaderSize);
    file.insert(file.end(), z.begin(), z.begin() + static_cast<std::ptrdiff_t>(n));
    epoch += epochs;
  }
  if (!footer) return file;
  const std::vector<uint8_t> tail = EncodeIndexAndFooter(index, file.size());
  file.insert(file.end(), tail.begin(), tail.end());
  return file;
}

// The reader opens a path: an in-memory file, reused across inputs.
int MemoryFile() {
  static int fd = ::memfd_create("thalia-trace-fuzz", MFD_CLOEXEC);
  return fd;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t mode = data[0];
  std::vector<uint8_t> file = (mode & 1) ? BuildFile(data + 1, size - 1, mode & 2)
                                         : std::vector<uint8_t>(data + 1, data + size);
  const int fd = MemoryFile();
  if (fd < 0 || ::ftruncate(fd, 0) != 0) return 0;
  if (::pwrite(fd, file.data(), file.size(), 0) != static_cast<ssize_t>(file.size())) return 0;
  TraceReaderOptions options;
  options.strict = !(mode & 4);
  auto reader = TraceReader::Open("/proc/self/fd/" + std::to_string(fd), options);
  if (!reader.ok()) return 0;
  DecodedRecord record;
  for (int i = 0; i < 100000; ++i) {
    auto more = reader.value()->Next(&record);
    if (!more.ok() || !more.value()) break;
  }
  return 0;
}
