// libFuzzer: the policy-file reader (yaml-cpp), as LoadPolicyFile calls it.
#include <cstdint>

#include "fuzz_util.h"
#include "group/policy_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Policy policy;
  std::string err;
  std::string text(reinterpret_cast<const char*>(data), size);
  if (!ParsePolicyFile(text, "pa-policy.yml", &policy, &err)) ExpectOneLine(err, "pa-policy.yml");
  return 0;
}
