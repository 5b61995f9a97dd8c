// libFuzzer: a batch's state file (.pa/state/<batch>.json).
#include <cstdint>

#include "exec/state.h"
#include "fuzz_util.h"
#include "util/disk.h"

static RealDisk real_disk;  // these tests read and write real files

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const fs::path file = InputFile("state");
  WriteInput(file, data, size);
  BatchState state;
  std::string err;
  if (!LoadBatchState(real_disk, file, &state, &err)) {
    ExpectOneLine(err, file.string());
    return 0;
  }
  for (const auto& [id, node] : state) (void)node.Succeeded();
  return 0;
}
