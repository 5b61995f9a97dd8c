#include "util/canonical_json.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "util/hash.h"

namespace {

constexpr int kMaxDepth = 256;

// Buffers for one level of nesting, kept from one value to the next: the
// digests of a manifest's configs would otherwise allocate for each.
// The order that sorting an object's fields gave, and the digests of its
// keys in that order, for the next object with the same keys in the same
// order: a manifest's configs nearly all are. Kept only for keys that are
// all different (then the values never decide the order).
struct KeyOrder {
  std::vector<std::string> keys;  // as written
  std::vector<uint32_t> order;
  std::vector<uint64_t> key_digests;
};

struct Level {
  std::string buffer;
  std::vector<std::pair<std::string_view, uint64_t>> fields;
  std::vector<uint32_t> order;
  std::vector<KeyOrder> known;  // the objects of this depth seen last, a few
  size_t next_replaced = 0;
};

// A recursive-descent reader that digests each value as it goes.
class CanonicalReader {
 public:
  CanonicalReader(std::string_view text, std::deque<Level>& levels) : text_(text), levels_(levels) {}

  bool Document(uint64_t* digest) {
    if (!Value(0, digest)) return false;
    SkipSpace();
    return at_ == text_.size();
  }

 private:
  void SkipSpace() {
    while (at_ < text_.size() &&
           (text_[at_] == ' ' || text_[at_] == '\n' || text_[at_] == '\r' || text_[at_] == '\t'))
      ++at_;
  }

  // HashLarge of the tag followed by the body; short ones (nearly all)
  // without an allocation.
  static uint64_t Tagged(char tag, std::string_view body) {
    char small[256];
    if (body.size() < sizeof small) {
      small[0] = tag;
      // An empty view may have no data (memcpy from null is undefined).
      if (!body.empty()) std::memcpy(small + 1, body.data(), body.size());
      return HashLarge(std::string_view(small, body.size() + 1));
    }
    std::string buffer(1, tag);
    buffer.append(body);
    return HashLarge(buffer);
  }

  static void Append(std::string* buffer, uint64_t digest) {
    buffer->append(reinterpret_cast<const char*>(&digest), sizeof digest);
  }

  // The raw text between the quotes (escapes as written: dbt's writer
  // escapes alike every time).
  bool String(std::string_view* body) {
    if (at_ >= text_.size() || text_[at_] != '"') return false;
    size_t start = ++at_;
    for (;;) {
      const void* quote = std::memchr(text_.data() + at_, '"', text_.size() - at_);
      if (!quote) return false;
      size_t end = static_cast<const char*>(quote) - text_.data();
      size_t slashes = 0;
      while (end - slashes > start && text_[end - slashes - 1] == '\\') ++slashes;
      at_ = end + 1;
      if (slashes % 2 == 0) {
        *body = text_.substr(start, end - start);
        return true;
      }
    }
  }

  bool Number(uint64_t* digest) {
    size_t start = at_;
    while (at_ < text_.size() && std::strchr("+-0123456789.eE", text_[at_]) && text_[at_] != '\0')
      ++at_;
    if (at_ == start) return false;
    std::string token(text_.substr(start, at_ - start));
    char* end = nullptr;
    double value = std::strtod(token.c_str(), &end);
    if (end != token.c_str() + token.size()) return false;
    if (value == 0) value = 0;  // -0 and 0 alike
    *digest = Tagged('n', std::string_view(reinterpret_cast<const char*>(&value), sizeof value));
    return true;
  }

  bool Literal(std::string_view word, char tag, uint64_t* digest) {
    if (text_.substr(at_, word.size()) != word) return false;
    at_ += word.size();
    *digest = Tagged(tag, {});
    return true;
  }

  bool Value(int depth, uint64_t* digest) {
    if (depth > kMaxDepth) return false;
    SkipSpace();
    if (at_ >= text_.size()) return false;
    switch (text_[at_]) {
      case '{': return Object(depth, digest);
      case '[': return Array(depth, digest);
      case '"': {
        std::string_view body;
        if (!String(&body)) return false;
        *digest = Tagged('s', body);
        return true;
      }
      case 't': return Literal("true", 't', digest);
      case 'f': return Literal("false", 'f', digest);
      case 'n': return Literal("null", 'z', digest);
      default: return Number(digest);
    }
  }

  // A deque: a level's buffers stay where they are while deeper ones are added.
  Level& At(int depth) {
    while (levels_.size() <= static_cast<size_t>(depth)) levels_.emplace_back();
    return levels_[depth];
  }

  bool Array(int depth, uint64_t* digest) {
    ++at_;  // [
    std::string& items = At(depth).buffer;
    items.assign(1, 'a');
    SkipSpace();
    if (at_ < text_.size() && text_[at_] == ']') {
      ++at_;
      *digest = HashLarge(items);
      return true;
    }
    for (;;) {
      uint64_t item = 0;
      if (!Value(depth + 1, &item)) return false;
      Append(&items, item);
      SkipSpace();
      if (at_ >= text_.size()) return false;
      if (text_[at_++] == ']') break;
      if (text_[at_ - 1] != ',') return false;
    }
    *digest = HashLarge(items);
    return true;
  }

  bool Object(int depth, uint64_t* digest) {
    ++at_;  // {
    std::vector<std::pair<std::string_view, uint64_t>>& fields = At(depth).fields;
    fields.clear();
    SkipSpace();
    if (at_ < text_.size() && text_[at_] == '}') {
      ++at_;
    } else {
      for (;;) {
        SkipSpace();
        std::string_view key;
        if (!String(&key)) return false;
        SkipSpace();
        if (at_ >= text_.size() || text_[at_++] != ':') return false;
        uint64_t value = 0;
        if (!Value(depth + 1, &value)) return false;
        fields.emplace_back(key, value);
        SkipSpace();
        if (at_ >= text_.size()) return false;
        if (text_[at_++] == '}') break;
        if (text_[at_ - 1] != ',') return false;
      }
    }
    Level& level = At(depth);
    std::string& buffer = level.buffer;
    buffer.assign(1, 'o');
    for (const KeyOrder& known : level.known) {
      bool same = known.keys.size() == fields.size();
      for (size_t i = 0; same && i < fields.size(); ++i) same = fields[i].first == known.keys[i];
      if (!same) continue;
      for (size_t i = 0; i < known.order.size(); ++i) {
        Append(&buffer, known.key_digests[i]);
        Append(&buffer, fields[known.order[i]].second);
      }
      *digest = HashLarge(buffer);
      return true;
    }
    // Sorted by key, then value (what std::sort of the pairs gives).
    std::vector<uint32_t>& order = level.order;
    order.resize(fields.size());
    for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return fields[a] < fields[b]; });
    KeyOrder seen;
    bool distinct = !fields.empty();
    for (size_t i = 0; i < order.size(); ++i) {
      const auto& [key, value] = fields[order[i]];
      if (i > 0 && key == fields[order[i - 1]].first) distinct = false;
      seen.key_digests.push_back(Tagged('s', key));
      Append(&buffer, seen.key_digests.back());
      Append(&buffer, value);
    }
    *digest = HashLarge(buffer);
    if (distinct) {
      for (const auto& field : fields) seen.keys.emplace_back(field.first);
      seen.order = order;
      constexpr size_t kKept = 8;
      if (level.known.size() < kKept) {
        level.known.push_back(std::move(seen));
      } else {
        level.known[level.next_replaced] = std::move(seen);
        level.next_replaced = (level.next_replaced + 1) % kKept;
      }
    }
    return true;
  }

  std::string_view text_;
  size_t at_ = 0;
  std::deque<Level>& levels_;
};

}  // namespace

uint64_t CanonicalJsonHash(std::string_view json) {
  size_t first = json.find_first_not_of(" \t\r\n");
  // Strings (a node's code) and scalars are canonical as written: digest
  // them 8 bytes at a time instead of reading them.
  if (first == std::string_view::npos || (json[first] != '{' && json[first] != '['))
    return HashLarge(json);
  uint64_t digest = 0;
  thread_local std::deque<Level> levels;
  if (CanonicalReader(json, levels).Document(&digest)) return digest;
  return HashLarge(json);
}
