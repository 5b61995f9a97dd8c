// libFuzzer: the plan file (.pa-plan.json), read back as `pa-gen exec` does.
#include <cstdint>

#include "fuzz_util.h"
#include "write/plan.h"
#include "util/disk.h"

static RealDisk real_disk;  // these tests read and write real files

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const fs::path file = InputFile("plan");
  WriteInput(file, data, size);
  Plan plan;
  std::string err;
  if (!LoadPlan(real_disk, file, &plan, &err)) {
    ExpectOneLine(err, file.string());
    return 0;
  }
  // What was accepted round-trips.
  Plan again;
  WriteInput(file, reinterpret_cast<const uint8_t*>(PlanToJson(plan).data()), PlanToJson(plan).size());
  if (!LoadPlan(real_disk, file, &again, &err) || PlanToJson(again) != PlanToJson(plan)) std::abort();
  return 0;
}
