#pragma once

#include <string>
#include <string_view>

// Where an escaped string goes in a .ninja file.
enum class NinjaContext {
  kPath,   // a path in a `build` line: `$`, space and colon are special
  kValue,  // a variable value: only `$` is special
};

// The one escaping function for Ninja text. Fails for what Ninja cannot
// express at all: a newline anywhere, or `|` in a path.
bool NinjaEscape(std::string_view in, NinjaContext context, std::string* out,
                 std::string* err);

// Quotes a word for /bin/sh (Ninja pastes variables into commands as is).
std::string ShellQuote(std::string_view word);

// A JSON string, exactly as nlohmann_json dumps it (pa-gen writes its large
// JSON files, plan and state, as text: building an ordered_json looks each
// key up linearly).
std::string JsonQuote(const std::string& text);
