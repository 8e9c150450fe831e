// Where a trace's bytes go (format version 2; version 1's numbers are in trace_format.md): file framing (file header, chunk headers, index and footer) next to
// each Batch field's bytes, collected per chunk into one stream per field and compressed alone
// with the writer's zstd level, so the streams' sizes add up to about the chunks' payloads.
// Then the codec's cost on that trace, best of 7: reading it (TraceReader, every record) and
// writing its batches again (AppendBatchRecord and zstd of 1 MiB chunks), per spike.
// usage: trace_breakdown TRACE [zstd_level=3]   (recorder/trace_format.md quotes its output)
#include <flatbuffers/flatbuffers.h>
#include <zstd.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "recorder/trace_format.h"
#include "recorder/trace_reader.h"
#include "recorder/trace_records.h"
#include "schemas/trace_generated.h"

namespace {

namespace fb = ::thalia::schema;
using namespace thalia::recorder;

struct Stream {
  uint64_t raw = 0, packed = 0;
  std::vector<uint8_t> chunk;  // this chunk's bytes of the stream
};

void Add(Stream& s, const void* p, size_t n) {
  const auto* b = static_cast<const uint8_t*>(p);
  s.chunk.insert(s.chunk.end(), b, b + n);
  s.raw += n;
}

template <typename T>
void AddVector(Stream& s, const flatbuffers::Vector<T>* v) {
  if (v) Add(s, v->Data(), v->size() * sizeof(T));
}

// Zeroes a vector's elements in the record that holds it (they compress to almost nothing).
template <typename T>
void Zero(const flatbuffers::Vector<T>* v) {
  if (v) std::memset(const_cast<uint8_t*>(v->Data()), 0, v->size() * sizeof(T));
}

void Compress(Stream& s, int level) {
  if (s.chunk.empty()) return;
  std::vector<uint8_t> z(ZSTD_compressBound(s.chunk.size()));
  s.packed += ZSTD_compress(z.data(), z.size(), s.chunk.data(), s.chunk.size(), level);
  s.chunk.clear();
}

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

// Reads the trace 7 times and writes its batches again 7 times; prints the best of each per spike.
int Timing(const char* path, int level) {
  std::vector<std::pair<thalia::kernel::EpochBegin, thalia::kernel::EpochDone>> epochs;
  std::vector<uint32_t> sizes;
  uint64_t spikes = 0;
  double read = 1e9, write = 1e9;
  for (int rep = 0; rep < 7; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
    auto r = TraceReader::Open(path);
    if (!r.ok()) {
      std::fprintf(stderr, "%s\n", r.status().message().c_str());
      return 1;
    }
    DecodedRecord rec;
    while (true) {
      auto more = r.value()->Next(&rec);
      if (!more.ok() || !more.value()) break;
      if (rep > 0 || rec.kind != RecordKind::kBatch) continue;
      thalia::kernel::EpochBegin b;
      thalia::kernel::EpochDone d;
      b.epoch = rec.batch.epoch;
      b.t0 = rec.batch.t0;
      b.t1 = rec.batch.t1;
      b.full_digest = rec.batch.full_digest;
      b.modulators = rec.batch.modulators;
      b.events = rec.batch.events;
      b.external = rec.batch.external;
      d.regions.resize(rec.batch.spikes.size());
      for (size_t i = 0; i < d.regions.size(); ++i) {
        d.regions[i].spikes = rec.batch.spikes[i];
        d.regions[i].digest = rec.batch.digests[i];
        spikes += rec.batch.spikes[i].size();
      }
      epochs.emplace_back(std::move(b), std::move(d));
    }
    read = std::min(read, Seconds(t0));
    sizes = r.value()->header().region_sizes;
  }
  for (int rep = 0; rep < 7; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<uint8_t> raw, z;
    auto compress = [&] {
      z.resize(ZSTD_compressBound(raw.size()));
      (void)ZSTD_compress(z.data(), z.size(), raw.data(), raw.size(), level);
      raw.clear();
    };
    for (const auto& [b, d] : epochs) {
      AppendBatchRecord(b, d, sizes, &raw);
      if (raw.size() >= kChunkTargetRawBytes) compress();
    }
    compress();
    write = std::min(write, Seconds(t0));
  }
  const double n = static_cast<double>(std::max<uint64_t>(spikes, 1));
  std::printf("read %.1f ns/spike, write (records + zstd) %.1f ns/spike (best of 7)\n", read * 1e9 / n,
              write * 1e9 / n);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: trace_breakdown TRACE [zstd_level=3]\n");
    return 2;
  }
  const int level = argc > 2 ? std::atoi(argv[2]) : 3;
  std::ifstream in(argv[1], std::ios::binary);
  const std::vector<uint8_t> file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (file.size() < kFileHeaderSize) return 1;
  std::printf("format version %u\n", GetU32(file.data() + 8));
  // Field names of the streams, in print order; "rest" is every other byte of a record
  // (FlatBuffers tables, vtables, offsets, size prefixes, the other fields).
  const char* names[] = {"spike_bits", "spike_counts", "digests", "rest"};
  std::map<std::string, Stream> streams;
  uint64_t spikes = 0, epochs = 0, chunks = 0, payload = 0, raw_total = 0;
  size_t off = kFileHeaderSize;
  while (off + kChunkHeaderSize <= file.size()) {
    ChunkHeader h;
    if (!DecodeChunkHeader(file.data() + off, &h)) break;
    std::vector<uint8_t> raw(h.raw_length);
    if (ZSTD_isError(ZSTD_decompress(raw.data(), raw.size(), file.data() + off + kChunkHeaderSize, h.payload_length)))
      return 1;
    ++chunks;
    payload += h.payload_length;
    raw_total += raw.size();
    off += kChunkHeaderSize + h.payload_length;
    for (size_t p = 0; p + 4 <= raw.size();) {
      const uint32_t len = GetU32(raw.data() + p);
      std::vector<uint8_t> rec(raw.begin() + static_cast<long>(p), raw.begin() + static_cast<long>(p + 4 + len));
      p += 4 + len;
      const fb::Record* r = fb::GetSizePrefixedRecord(rec.data());
      uint64_t fields = 0;
      if (const fb::Batch* b = r->body_as_Batch()) {
        ++epochs;
        for (uint32_t c : *b->spike_counts()) spikes += c;
        AddVector(streams["spike_bits"], b->spike_bits());
        AddVector(streams["spike_counts"], b->spike_counts());
        AddVector(streams["digests"], b->digests());
        Zero(b->spike_bits());
        Zero(b->spike_counts());
        Zero(b->digests());
        fields = (b->spike_bits() ? b->spike_bits()->size() : 0) +
                 (b->spike_counts() ? b->spike_counts()->size() * 4 : 0) +
                 (b->digests() ? b->digests()->size() * 8 : 0);
      }
      // The rest: the record with the fields above zeroed (their bytes are counted above).
      Stream& rest = streams["rest"];
      rest.chunk.insert(rest.chunk.end(), rec.begin(), rec.end());
      rest.raw += rec.size() - fields;
    }
    for (auto& [name, s] : streams) Compress(s, level);
  }
  const uint64_t framing = file.size() - payload;
  std::printf("%" PRIu64 " bytes, %" PRIu64 " spikes, %" PRIu64 " epochs, %" PRIu64 " chunks: %.3f bytes/spike\n",
              static_cast<uint64_t>(file.size()), spikes, epochs, chunks,
              static_cast<double>(file.size()) / static_cast<double>(spikes));
  std::printf("%-16s %12s %12s %10s\n", "part", "raw bytes", "zstd alone", "B/spike");
  std::printf("%-16s %12" PRIu64 " %12" PRIu64 " %10.3f\n", "framing", framing, framing,
              static_cast<double>(framing) / static_cast<double>(spikes));
  uint64_t sum = framing;
  for (const char* n : names) {
    const Stream& s = streams[n];
    if (s.raw == 0) continue;
    sum += s.packed;
    std::printf("%-16s %12" PRIu64 " %12" PRIu64 " %10.3f\n", n, s.raw, s.packed,
                static_cast<double>(s.packed) / static_cast<double>(spikes));
  }
  std::printf("%-16s %12" PRIu64 " %12" PRIu64 " %10.3f  (payloads as written: %" PRIu64 ")\n", "sum",
              raw_total + framing, sum, static_cast<double>(sum) / static_cast<double>(spikes), payload);
  return Timing(argv[1], level);
}
