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

// dbt's messages span lines ("Runtime Error in model x", then the database's
// error): the text on one line, each run of whitespace one space, for a
// terminal and for grep.
std::string OneLine(const std::string& text);

// pa-gen's own errors quote keys, ids and paths from the user's files,
// which may hold newlines: each '\n' and '\r' becomes a space, so that the
// error stays one line (and nothing else changes).
void NewlinesToSpaces(std::string* text);
