#include "dbt/dotenv.h"

#include <stdlib.h>

#include <system_error>

#include "util/fs.h"

namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool IsLineSpace(char c) { return IsSpace(c) && c != '\n' && c != '\r'; }  // [^\S\r\n]

// python-dotenv 1.2's parser (dotenv/parser.py), one binding at a time.
class Parser {
 public:
  explicit Parser(const std::string& text) : s_(text) {
    if (s_.rfind("\xEF\xBB\xBF", 0) == 0) pos_ = 3;  // a BOM
  }

  void Parse(DotenvBindings* out) {
    while (pos_ < s_.size()) {
      size_t start = pos_;
      std::optional<std::pair<std::string, std::optional<std::string>>> binding;
      if (Binding(&binding)) {
        if (binding) out->push_back(std::move(*binding));
      } else {
        RestOfLine();  // as python-dotenv: from where it failed
      }
      if (pos_ == start) ++pos_;  // never loop
    }
  }

 private:
  // False on a malformed line.
  bool Binding(std::optional<std::pair<std::string, std::optional<std::string>>>* out) {
    while (pos_ < s_.size() && IsSpace(s_[pos_])) ++pos_;
    if (pos_ >= s_.size()) return true;
    // (?:export[^\S\r\n]+)?
    if (s_.compare(pos_, 6, "export") == 0 && pos_ + 6 < s_.size() && IsLineSpace(s_[pos_ + 6])) {
      pos_ += 6;
      while (pos_ < s_.size() && IsLineSpace(s_[pos_])) ++pos_;
    }
    std::optional<std::string> key;
    if (Peek() == '#') {
      // a comment: no key
    } else if (Peek() == '\'') {
      size_t end = s_.find('\'', pos_ + 1);
      if (end == std::string::npos || end == pos_ + 1) return false;
      key = s_.substr(pos_ + 1, end - pos_ - 1);
      pos_ = end + 1;
    } else {
      size_t end = pos_;
      while (end < s_.size() && s_[end] != '=' && s_[end] != '#' && !IsSpace(s_[end])) ++end;
      if (end == pos_) return false;
      key = s_.substr(pos_, end - pos_);
      pos_ = end;
    }
    while (pos_ < s_.size() && IsLineSpace(s_[pos_])) ++pos_;
    std::optional<std::string> value;
    if (Peek() == '=') {
      size_t eq = pos_++;
      while (pos_ < s_.size() && IsLineSpace(s_[pos_])) ++pos_;
      if (pos_ - eq > 1 && Peek() == '#') {
        value = "";
      } else {
        std::string v;
        if (!Value(&v)) return false;
        value = std::move(v);
      }
    }
    // (?:[^\S\r\n]*#[^\r\n]*)?
    size_t p = pos_;
    while (p < s_.size() && IsLineSpace(s_[p])) ++p;
    if (p < s_.size() && s_[p] == '#') {
      while (p < s_.size() && s_[p] != '\n' && s_[p] != '\r') ++p;
      pos_ = p;
    }
    // [^\S\r\n]*(?:\r\n|\n|\r|$)
    while (pos_ < s_.size() && IsLineSpace(s_[pos_])) ++pos_;
    if (pos_ < s_.size()) {
      if (s_.compare(pos_, 2, "\r\n") == 0) pos_ += 2;
      else if (s_[pos_] == '\n' || s_[pos_] == '\r') ++pos_;
      else return false;
    }
    if (key) *out = std::make_pair(std::move(*key), std::move(value));
    return true;
  }

  bool Value(std::string* v) {
    char c = Peek();
    if (c == '\'' || c == '"') {
      // '((?:\\.|[^'\\])*)' and the like, then its escapes decoded.
      size_t p = pos_ + 1;
      std::string raw;
      while (p < s_.size() && s_[p] != c) {
        if (s_[p] == '\\') {
          if (p + 1 >= s_.size()) return false;
          raw += s_.substr(p, 2);
          p += 2;
        } else {
          raw += s_[p++];
        }
      }
      if (p >= s_.size()) return false;
      pos_ = p + 1;
      *v = Unescape(raw, c == '"');
      return true;
    }
    if (c == '\0' || c == '\n' || c == '\r') return true;
    size_t end = pos_;
    while (end < s_.size() && s_[end] != '\n' && s_[end] != '\r') ++end;
    std::string part = s_.substr(pos_, end - pos_);
    pos_ = end;
    // re.sub(r"\s+#.*", "", part).rstrip()
    for (size_t i = 1; i < part.size(); ++i) {
      if (part[i] == '#' && IsSpace(part[i - 1])) {
        size_t from = i - 1;
        while (from > 0 && IsSpace(part[from - 1])) --from;
        part.erase(from);
        break;
      }
    }
    while (!part.empty() && IsSpace(part.back())) part.pop_back();
    *v = std::move(part);
    return true;
  }

  // \\[\\'] in single quotes; \\[\\'"abfnrtv] in double quotes.
  static std::string Unescape(const std::string& raw, bool double_quoted) {
    std::string out;
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] != '\\' || i + 1 >= raw.size()) {
        out += raw[i];
        continue;
      }
      char n = raw[i + 1];
      char decoded = 0;
      switch (n) {
        case '\\': decoded = '\\'; break;
        case '\'': decoded = '\''; break;
        default:
          if (double_quoted) {
            switch (n) {
              case '"': decoded = '"'; break;
              case 'a': decoded = '\a'; break;
              case 'b': decoded = '\b'; break;
              case 'f': decoded = '\f'; break;
              case 'n': decoded = '\n'; break;
              case 'r': decoded = '\r'; break;
              case 't': decoded = '\t'; break;
              case 'v': decoded = '\v'; break;
            }
          }
      }
      if (decoded) {
        out += decoded;
        ++i;
      } else {
        out += raw[i];
      }
    }
    return out;
  }

  void RestOfLine() {
    while (pos_ < s_.size() && s_[pos_] != '\n' && s_[pos_] != '\r') ++pos_;
    if (s_.compare(pos_, 2, "\r\n") == 0) pos_ += 2;
    else if (pos_ < s_.size()) ++pos_;
  }

  char Peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }

  const std::string& s_;
  size_t pos_ = 0;
};

// \$\{(?P<name>[^\}:]*)(?::-(?P<default>[^\}]*))?\}, resolved in `env`.
std::string Expand(const std::string& value, const std::map<std::string, std::string>& env) {
  std::string out;
  size_t i = 0;
  while (i < value.size()) {
    if (value.compare(i, 2, "${") == 0) {
      size_t p = i + 2;
      while (p < value.size() && value[p] != '}' && value[p] != ':') ++p;
      std::string name = value.substr(i + 2, p - i - 2);
      std::optional<std::string> fallback;
      bool ok = false;
      if (p < value.size() && value[p] == '}') {
        ok = true;
      } else if (value.compare(p, 2, ":-") == 0) {
        size_t close = value.find('}', p + 2);
        if (close != std::string::npos) {
          fallback = value.substr(p + 2, close - p - 2);
          p = close;
          ok = true;
        }
      }
      if (ok) {
        auto it = env.find(name);
        out += it != env.end() ? it->second : fallback.value_or("");
        i = p + 1;
        continue;
      }
    }
    out += value[i++];
  }
  return out;
}

}  // namespace

DotenvBindings ParseDotenv(const std::string& text) {
  DotenvBindings bindings;
  Parser(text).Parse(&bindings);
  return bindings;
}

std::map<std::string, std::string> ResolveDotenv(const DotenvBindings& bindings,
                                                 const std::map<std::string, std::string>& environment) {
  std::map<std::string, std::string> values;
  std::map<std::string, std::string> nulls;  // names bound without a value: "" when expanded
  for (const auto& [name, value] : bindings) {
    if (!value) {
      values.erase(name);
      nulls[name] = "";
      continue;
    }
    std::map<std::string, std::string> env = nulls;
    for (const auto& [k, v] : values) env[k] = v;
    for (const auto& [k, v] : environment) env[k] = v;
    nulls.erase(name);
    values[name] = Expand(*value, env);
  }
  return values;
}

fs::path FindDotenv(const fs::path& dir) {
  std::error_code ec;
  fs::path at = fs::absolute(dir, ec).lexically_normal();
  if (ec) return {};
  for (;;) {
    fs::path candidate = at / ".env";
    if (fs::is_regular_file(candidate, ec)) return candidate;
    if (at == at.parent_path() || at.empty()) return {};
    at = at.parent_path();
  }
}

fs::path LoadDotenv(const fs::path& dir) {
  fs::path file = FindDotenv(dir);
  if (file.empty()) return {};
  std::string text, err;
  if (!ReadFile(file, &text, &err)) return {};
  std::map<std::string, std::string> environment;
  extern char** environ;
  for (char** e = environ; e && *e; ++e) {
    std::string kv = *e;
    size_t eq = kv.find('=');
    if (eq != std::string::npos) environment[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& [name, value] : ResolveDotenv(ParseDotenv(text), environment))
    if (!environment.count(name)) setenv(name.c_str(), value.c_str(), 0);
  return file;
}
