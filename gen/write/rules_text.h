#pragma once

// The contents of rules/pa.ninja, compiled in.
extern const char kRulesText[];
