#include "plan/plan_json.h"

#include <algorithm>
#include <cstring>
#include <functional>
#include <string_view>
#include <variant>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "dbt/options.h"
#include "util/json_number.h"

using nlohmann::json;

namespace {

void ReadField(const json& j, const char*, std::string* value) { *value = j.get<std::string>(); }
void ReadField(const json& j, const char*, fs::path* value) { *value = j.get<std::string>(); }
// Numbers are checked for type and range (util/json_number.h): a plan anyone
// can edit must not be a float-to-integer overflow.
void ReadField(const json& j, const char* key, int* value) { *value = WholeNumber<int>(j, key, 0); }

// The text nlohmann's dump(1) would give for the plan as a json object
// (keys sorted byte-wise, one space of indent per level, the same string
// escapes), written straight into one buffer: building the document first
// cost more than everything else in a generation of 30,000 nodes.
class PlanWriter {
 public:
  std::string Take() { return std::move(out_); }
  void Reserve(size_t bytes) { out_.reserve(bytes); }

  // Containers. An empty one is written as {} or [], as nlohmann does.
  void Open(char bracket) {
    Item();
    out_ += bracket;
    first_.push_back(true);
  }
  void Close(char bracket) {
    bool empty = first_.back();
    first_.pop_back();
    if (!empty) Newline();
    out_ += bracket;
  }
  void Key(std::string_view key) {
    Item();
    Quoted(key);
    out_ += ": ";
    after_key_ = true;
  }
  void String(std::string_view value) {
    Item();
    Quoted(value);
  }
  void Int(int value) {
    Item();
    out_ += std::to_string(value);
  }

 private:
  // Before a value: a comma after its sibling, then a new line and the
  // indent; nothing when it follows its key.
  void Item() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (first_.empty()) return;  // the document itself
    if (!first_.back()) out_ += ',';
    first_.back() = false;
    Newline();
  }
  void Newline() {
    out_ += '\n';
    out_.append(first_.size(), ' ');
  }
  void Quoted(std::string_view text) {
    out_ += '"';
    size_t plain = 0;  // start of the run of bytes that need no escape
    bool ascii = true;
    for (size_t i = 0; i < text.size(); ++i) {
      while (i + 8 <= text.size() && Plain8(text.data() + i)) i += 8;
      if (i == text.size()) break;
      unsigned char c = static_cast<unsigned char>(text[i]);
      ascii &= c < 0x80;
      if (c >= 0x20 && c != '"' && c != '\\') continue;
      out_.append(text.data() + plain, i - plain);
      plain = i + 1;
      switch (c) {
        case '"': out_ += "\\\""; break;
        case '\\': out_ += "\\\\"; break;
        case '\b': out_ += "\\b"; break;
        case '\f': out_ += "\\f"; break;
        case '\n': out_ += "\\n"; break;
        case '\r': out_ += "\\r"; break;
        case '\t': out_ += "\\t"; break;
        default: out_ += fmt::format("\\u{:04x}", c);
      }
    }
    out_.append(text.data() + plain, text.size() - plain);
    out_ += '"';
    // nlohmann refuses text that is not UTF-8 with its type_error 316,
    // which main() reports as the one-line error it always was.
    if (!ascii && !ValidUtf8(text)) (void)json(std::string(text)).dump();
  }
  // Whether the 8 bytes at `p` are ASCII that needs no escape: none below
  // 0x20, none 0x80 or above, no '"' and no '\\' (tested a word at a time).
  static bool Plain8(const char* p) {
    constexpr uint64_t kOnes = 0x0101010101010101ULL, kHigh = 0x8080808080808080ULL;
    uint64_t w;
    std::memcpy(&w, p, 8);
    auto has_zero = [&](uint64_t x) { return (x - kOnes) & ~x & kHigh; };
    uint64_t below_space = (w - kOnes * 0x20) & ~w & kHigh;  // exact when no byte is >= 0x80
    return ((w & kHigh) | below_space | has_zero(w ^ (kOnes * '"')) |
            has_zero(w ^ (kOnes * '\\'))) == 0;
  }
  static bool ValidUtf8(std::string_view text) {
    for (size_t i = 0; i < text.size();) {
      unsigned char c = static_cast<unsigned char>(text[i]);
      if (c < 0x80) {
        ++i;
        continue;
      }
      int more = (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : (c & 0xF8) == 0xF0 ? 3 : -1;
      if (more < 0) return false;
      uint32_t code = c & (0x3F >> more);
      for (int k = 1; k <= more; ++k) {
        if (i + k >= text.size()) return false;
        unsigned char next = static_cast<unsigned char>(text[i + k]);
        if ((next & 0xC0) != 0x80) return false;
        code = (code << 6) | (next & 0x3F);
      }
      // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
      static constexpr uint32_t kSmallest[] = {0, 0x80, 0x800, 0x10000};
      if (code < kSmallest[more] || (code >= 0xD800 && code <= 0xDFFF) || code > 0x10FFFF)
        return false;
      i += more + 1;
    }
    return true;
  }

  std::string out_;
  std::vector<bool> first_;  // per open container: nothing written in it yet
  bool after_key_ = false;
};

void WriteField(PlanWriter& w, const std::string& value) { w.String(value); }
void WriteField(PlanWriter& w, const fs::path& value) { w.String(value.string()); }
void WriteField(PlanWriter& w, int value) { w.Int(value); }

}  // namespace

std::string PlanToJson(const Plan& plan) {
  // The top level's keys, in order: the options' keys, project_dir, batches
  // and selectable.
  std::vector<std::pair<std::string_view, std::function<void(PlanWriter&)>>> top;
  top.emplace_back("project_dir", [&](PlanWriter& w) { w.String(plan.project_dir); });
  for (const DbtOption& option : DbtOptions()) {
    top.emplace_back(option.plan_key, [&](PlanWriter& w) {
      std::visit([&](auto field) { WriteField(w, plan.dbt.*field); }, option.field);
    });
  }
  // Batches by name; of two with one name the last counts, as it did when
  // they were assigned to one json key.
  std::vector<const PlanBatch*> batches;
  for (const PlanBatch& batch : plan.batches) batches.push_back(&batch);
  std::stable_sort(batches.begin(), batches.end(),
                   [](const PlanBatch* a, const PlanBatch* b) { return a->name < b->name; });
  top.emplace_back("batches", [&](PlanWriter& w) {
    w.Open('{');
    for (size_t i = 0; i < batches.size(); ++i) {
      const PlanBatch& batch = *batches[i];
      if (i + 1 < batches.size() && batches[i + 1]->name == batch.name) continue;
      w.Key(batch.name);
      w.Open('{');
      w.Key("digest");
      w.String(batch.digest);
      w.Key("members");
      w.Open('[');
      for (const PlanMember& m : batch.members) {
        w.Open('{');
        w.Key("deps");
        w.Open('[');
        for (const auto& [dep_batch, dep_id] : m.deps) {
          w.Open('[');
          w.String(dep_batch);
          w.String(dep_id);
          w.Close(']');
        }
        w.Close(']');
        w.Key("fingerprint");
        w.String(m.fingerprint);
        if (!m.gated_by.empty()) {
          w.Key("gated_by");
          w.Open('[');
          for (const auto& [test_batch, test_id] : m.gated_by) {
            w.Open('[');
            w.String(test_batch);
            w.String(test_id);
            w.Close(']');
          }
          w.Close(']');
        }
        w.Key("id");
        w.String(m.unique_id);
        if (m.on_error_continue) {
          w.Key("on_error");
          w.String("continue");
        }
        w.Key("select");
        w.String(m.selector);
        w.Close('}');
      }
      w.Close(']');
      if (!batch.split_from.empty()) {
        w.Key("split_from");
        w.String(batch.split_from);
      }
      if (batch.threads > 0) {
        w.Key("threads");
        w.Int(batch.threads);
      }
      if (!batch.upstream.empty()) {
        w.Key("upstream");
        w.Open('[');
        for (const std::string& name : batch.upstream) w.String(name);
        w.Close(']');
      }
      w.Close('}');
    }
    w.Close('}');
  });
  // [unique_id, fqn, flags]; flags: 1 versioned, 2 neutral.
  if (!plan.selectable.empty()) {
    top.emplace_back("selectable", [&](PlanWriter& w) {
      w.Open('[');
      for (const SelectableNode& n : plan.selectable) {
        w.Open('[');
        w.String(n.unique_id);
        w.Open('[');
        for (const std::string& part : n.fqn) w.String(part);
        w.Close(']');
        w.Int((n.versioned ? 1 : 0) | (n.neutral ? 2 : 0));
        w.Close(']');
      }
      w.Close(']');
    });
  }
  // Sorted, the last of equal keys counting (none are equal today).
  std::stable_sort(top.begin(), top.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  PlanWriter w;
  size_t members = 0;
  for (const PlanBatch& batch : plan.batches) members += batch.members.size();
  w.Reserve(4096 + members * 400 + plan.selectable.size() * 160);
  w.Open('{');
  for (size_t i = 0; i < top.size(); ++i) {
    if (i + 1 < top.size() && top[i + 1].first == top[i].first) continue;
    w.Key(top[i].first);
    top[i].second(w);
  }
  w.Close('}');
  return w.Take() + "\n";
}

bool LoadPlan(Disk& disk, const fs::path& path, Plan* plan, std::string* err) {
  *plan = Plan();
  std::string text;
  if (!disk.ReadFile(path, &text, err)) return false;
  try {
    json doc = json::parse(text);
    plan->project_dir = doc.at("project_dir").get<std::string>();
    for (const DbtOption& option : DbtOptions()) {
      std::visit([&](auto field) { ReadField(doc.at(option.plan_key), option.plan_key, &(plan->dbt.*field)); },
                 option.field);
    }
    for (const auto& [name, batch] : doc.at("batches").items()) {
      PlanBatch planned{name, batch.at("digest").get<std::string>(), {},
                        batch.value("split_from", ""), WholeNumberOr<int>(batch, "threads", 0, 0),
                        batch.value("upstream", std::vector<std::string>{})};
      for (const auto& m : batch.at("members")) {
        PlanMember member{m.at("id").get<std::string>(), m.at("select").get<std::string>(),
                          m.at("fingerprint").get<std::string>(), {}};
        for (const auto& dep : m.at("deps"))
          member.deps.emplace_back(dep.at(0).get<std::string>(), dep.at(1).get<std::string>());
        if (auto gates = m.find("gated_by"); gates != m.end())
          for (const auto& gate : *gates)
            member.gated_by.emplace_back(gate.at(0).get<std::string>(), gate.at(1).get<std::string>());
        member.on_error_continue = m.value("on_error", "") == "continue";
        planned.members.push_back(std::move(member));
      }
      plan->batches.push_back(std::move(planned));
    }
    if (auto it = doc.find("selectable"); it != doc.end()) {
      for (const auto& n : *it) {
        int flags = WholeNumber<int>(n.at(2), "selectable flags", 0);
        plan->selectable.push_back({n.at(0).get<std::string>(),
                                    n.at(1).get<std::vector<std::string>>(), (flags & 1) != 0,
                                    (flags & 2) != 0});
      }
    }
  } catch (const std::exception& e) {  // nlohmann's, or WholeNumber's out of range
    *err = fmt::format("{}: not a pa-gen plan ({}); run pa-gen again", path.string(), e.what());
    return false;
  }
  return true;
}
