// libFuzzer: the manifest reader (simdjson On-Demand with nlohmann's checker
// for errors), then the graph built from what it accepted.
#include <cstdint>

#include "fuzz_util.h"
#include "graph/graph.h"
#include "manifest/manifest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Manifest manifest;
  std::string err;
  // Copied into an exact-size allocation (PA_MANIFEST_ON_HEAP).
  if (!ParseManifest({reinterpret_cast<const char*>(data), size}, "manifest.json", &manifest, &err)) {
    ExpectOneLine(err, "manifest.json");
    return 0;
  }
  Graph graph;
  if (!BuildGraph(manifest, "manifest.json", &graph, &err)) ExpectOneLine(err, "manifest.json");
  return 0;
}
