#pragma once

#include <string>

#include "plan/plan.h"
#include "util/disk.h"
#include "util/fs.h"

// The plan's on-disk format: JSON, keys sorted, one batch per key.
std::string PlanToJson(const Plan& plan);
bool LoadPlan(Disk& disk, const fs::path& path, Plan* plan, std::string* err);
