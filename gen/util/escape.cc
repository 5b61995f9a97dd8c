#include "util/escape.h"

#include <fmt/format.h>

bool NinjaEscape(std::string_view in, NinjaContext context, std::string* out,
                 std::string* err) {
  out->clear();
  out->reserve(in.size());
  for (char c : in) {
    if (c == '\n' || c == '\r') {
      *err = fmt::format("'{}' contains a newline, which Ninja cannot express", in);
      return false;
    }
    if (c == '$') {
      out->append("$$");
      continue;
    }
    if (context == NinjaContext::kPath) {
      if (c == '|') {
        *err = fmt::format("path '{}' contains '|', which Ninja cannot express in a path", in);
        return false;
      }
      if (c == ' ' || c == ':') out->push_back('$');
    }
    out->push_back(c);
  }
  return true;
}

std::string ShellQuote(std::string_view word) {
  bool plain = !word.empty();
  for (char c : word) {
    bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '_' || c == '-' || c == '.' || c == '/' || c == ',' || c == '+' || c == '=' ||
                c == ':' || c == '@' || c == '%';
    if (!safe) plain = false;
  }
  if (plain) return std::string(word);
  std::string out = "'";
  for (char c : word) {
    if (c == '\'') out += "'\\''";
    else out.push_back(c);
  }
  out += "'";
  return out;
}

void NewlinesToSpaces(std::string* text) {
  for (char& c : *text)
    if (c == '\n' || c == '\r') c = ' ';
}

std::string OneLine(const std::string& text) {
  std::string line;
  bool space = false;
  for (char c : text) {
    if (c == '\n' || c == '\r' || c == ' ' || c == '\t') {
      space = !line.empty();
      continue;
    }
    if (space) line.push_back(' ');
    space = false;
    line.push_back(c);
  }
  return line;
}
