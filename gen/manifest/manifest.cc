// The manifest reader: simdjson On-Demand over the file's text, in place.
//
// A large manifest is mostly code, columns and descriptions that pa-gen
// never looks at. On-Demand indexes the document once (stage 1: every
// structural character, strings and UTF-8 checked) and then walks only the
// fields read here, skipping the others by their index; nothing is built
// for them. The digests of a node's definition hash the raw JSON text of
// its fields, which needs no unescaping or re-serialising.
//
// What is skipped is indexed but not parsed: a value that is malformed
// inside a field pa-gen skips (`[1 2]`) can go unnoticed. dbt writes
// manifests with json.dump; the damage seen in practice, a truncated file,
// is always caught.
//
// Errors: when anything goes wrong, the text is checked by nlohmann_json's
// SAX parser (nothing is built), so a malformed manifest is reported as
// before, with nlohmann's message and position; otherwise the first problem
// in the order of the fields read below, whatever the document's key order.
#include "manifest/manifest.h"

#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <tuple>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <simdjson.h>

#include "manifest/parser_memory.h"
#include "util/canonical_json.h"
#include "util/escape.h"
#include "util/hash.h"
#include "util/heap_pages.h"

namespace od = simdjson::ondemand;

static_assert(ManifestText::kPadding >= simdjson::SIMDJSON_PADDING);

namespace {

// nlohmann's type names, which the messages have always used.
const char* TypeName(od::json_type type) {
  switch (type) {
    case od::json_type::array: return "array";
    case od::json_type::object: return "object";
    case od::json_type::number: return "number";
    case od::json_type::string: return "string";
    case od::json_type::boolean: return "boolean";
    case od::json_type::null: return "null";
  }
  return "unknown";
}

std::string_view TrimEnd(std::string_view text) {
  while (!text.empty() && (text.back() == ' ' || text.back() == '\n' || text.back() == '\r' ||
                           text.back() == '\t'))
    text.remove_suffix(1);
  return text;
}

// A value's JSON text as it is in the document, for digests.
std::string_view RawJson(od::value& value) {
  switch (od::json_type(value.type())) {
    case od::json_type::object: {
      od::object object = value.get_object();
      return TrimEnd(object.raw_json());
    }
    case od::json_type::array: {
      od::array array = value.get_array();
      return TrimEnd(array.raw_json());
    }
    default: return TrimEnd(value.raw_json_token());
  }
}

// A field's key as written, without unescaping when it holds no escape.
std::string_view KeyOf(od::field& field) {
  const char* start = field.key().raw();
  const char* end = start;
  while (*end != '"') {
    if (*end == '\\') return field.unescaped_key();
    ++end;
  }
  return {start, static_cast<size_t>(end - start)};
}

// Index of `key` in `names`, or -1. The first byte is compared before the
// rest: a node has some 40 fields and most share a length with a name.
template <size_t N>
int Lookup(const std::array<std::string_view, N>& names, std::string_view key) {
  for (size_t i = 0; i < N; ++i)
    if (names[i].size() == key.size() && names[i][0] == key[0] && names[i] == key)
      return static_cast<int>(i);
  return -1;
}

// Where a problem was found, for choosing the first one: the check (in the
// order below), the entry's key (map entries are checked in key order) and
// the field within the entry.
enum Check {
  kMetadataCheck,  // fields: 0 the object itself, 1 dbt_schema_version, 2.. the others
  kNodesMap,
  kMacrosMap,
  kUnitTestsMap,
  kNodeEntries,
  kUnitTestEntries,
  kMacroEntries,
};

class Problems {
 public:
  void Add(Check check, std::string_view key, int field, std::string message) {
    auto rank = std::make_tuple(check, std::string(key), field);
    if (!message_.empty() && !(rank < rank_)) return;
    rank_ = std::move(rank);
    message_ = std::move(message);
  }
  bool empty() const { return message_.empty(); }
  const std::string& message() const { return message_; }

 private:
  std::tuple<Check, std::string, int> rank_;
  std::string message_;
};

// Reads fields of one JSON object and records their problems, so the loader
// reads as a list of fields instead of a ladder of checks.
class FieldReader {
 public:
  // Messages start with `where` ("manifest", "metadata"), or with
  // "<what> '<key>'" ("node 'model.p.x'") when `what` is given: made only
  // for a message, not for each of the 30,000 entries of a large manifest.
  FieldReader(Problems* problems, Check check, std::string_view key, const char* where,
              const char* what = nullptr)
      : problems_(problems), check_(check), key_(key), where_(where), what_(what) {}

  // The reader of a field's object: messages say "<where> <name>".
  FieldReader Inner(const char* name) const {
    FieldReader inner = *this;
    inner.inner_ = name;
    return inner;
  }

  // Whether `value` has type `want`. A null optional field counts as absent.
  bool Is(od::value& value, od::json_type want, int rank, const char* name, bool required) {
    od::json_type type = value.type();
    if (type == want) return true;
    if (type == od::json_type::null && !required) return false;
    Fail(rank, fmt::format("{} field '{}' should be {} but is {}", Where(), name, TypeName(want),
                           TypeName(type)));
    return false;
  }

  void Lacks(int rank, const char* name) {
    Fail(rank, fmt::format("{} lacks required field '{}'", Where(), name));
  }

  std::string String(od::value& value, int rank, const char* name, bool required = true) {
    if (!Is(value, od::json_type::string, rank, name, required)) return {};
    return std::string(std::string_view(value.get_string()));
  }

  std::vector<std::string> Strings(od::value& value, int rank, const char* name,
                                   bool required = true) {
    if (!Is(value, od::json_type::array, rank, name, required)) return {};
    // Views first (they stay valid while the document is read), then the
    // strings in a vector of the right size: moving strings as it grew cost more.
    static thread_local std::vector<std::string_view> items;
    items.clear();
    bool all_strings = true;
    for (od::value item : value.get_array()) {
      if (all_strings && od::json_type(item.type()) == od::json_type::string) {
        items.push_back(std::string_view(item.get_string()));
      } else if (all_strings) {
        all_strings = false;
        Fail(rank, fmt::format("{} field '{}' should hold strings", Where(), name));
      }
    }
    return std::vector<std::string>(items.begin(), items.end());
  }

  // depends_on.{nodes,macros}: `rank` for depends_on itself, rank + 1 and
  // rank + 2 for its lists.
  void DependsOn(od::value& value, int rank, std::vector<std::string>* nodes,
                 std::vector<std::string>* macros) {
    if (!Is(value, od::json_type::object, rank, "depends_on", false)) return;
    FieldReader inner = Inner("depends_on");
    for (od::field field : value.get_object()) {
      std::string_view key = KeyOf(field);
      if (nodes && key == "nodes") *nodes = inner.Strings(field.value(), rank + 1, "nodes", false);
      if (key == "macros") *macros = inner.Strings(field.value(), rank + 2, "macros", false);
    }
  }

  void Fail(int rank, std::string message) {
    problems_->Add(check_, key_, rank, std::move(message));
  }

 private:
  Problems* problems_;
  Check check_;
  std::string Where() const {
    std::string where = what_ ? fmt::format("{} '{}'", what_, key_) : std::string(where_);
    if (inner_) where = where + " " + inner_;
    return where;
  }

  std::string_view key_;
  const char* where_;
  const char* what_;
  const char* inner_ = nullptr;
};

// The fields of a node that pa-gen reads, in the order their problems are
// reported, then those that only count for its definition.
enum NodeField {
  kUniqueId, kResourceType, kName, kPackageName, kOriginalFilePath, kFqn, kDependsOn,
  kPatchPath, kConfig, kChecksum, kRawCode, kRelationName, kTestMetadata, kGiven, kExpect,
  kOverrides, kVersion, kContract, kDescription, kColumns, kNodeFieldCount
};
constexpr std::array<std::string_view, kNodeFieldCount> kNodeFieldNames = {
    "unique_id", "resource_type", "name", "package_name", "original_file_path", "fqn",
    "depends_on", "patch_path", "config", "checksum", "raw_code", "relation_name",
    "test_metadata", "given", "expect", "overrides", "version", "contract", "description",
    "columns"};
// Problem ranks: a field's index times 10, plus the sub-field's.
int Rank(NodeField field, int sub = 0) { return field * 10 + sub; }

// What ManifestNode::definition digests, in this order; description and
// columns only when config.persist_docs is not empty.
constexpr NodeField kDefinitionFields[] = {kChecksum, kRawCode, kConfig, kRelationName,
                                           kTestMetadata, kGiven, kExpect, kOverrides,
                                           kVersion, kContract};

void ReadConfig(od::value& value, FieldReader& node_reader, ManifestNode* node,
                std::string_view* raw, bool* persist_docs) {
  if (od::json_type(value.type()) != od::json_type::object) {
    *raw = RawJson(value);
    node_reader.Is(value, od::json_type::object, Rank(kConfig), "config", false);
    return;
  }
  od::object config = value.get_object();
  *raw = TrimEnd(config.raw_json());
  config.reset();  // raw_json went to its end: read it again
  FieldReader r = node_reader.Inner("config");
  std::map<std::string, std::string> meta;  // sorted, the last of duplicate keys wins
  for (od::field field : config) {
    std::string_view key = KeyOf(field);
    od::value v = field.value();
    if (key == "materialized") {
      node->materialized = r.String(v, Rank(kConfig, 1), "materialized", false);
    } else if (key == "on_error") {
      node->on_error = r.String(v, Rank(kConfig, 5), "on_error", false);
    } else if (key == "enabled") {
      if (r.Is(v, od::json_type::boolean, Rank(kConfig, 2), "enabled", false))
        node->enabled = v.get_bool();
    } else if (key == "tags") {
      node->tags = r.Strings(v, Rank(kConfig, 3), "tags", false);
    } else if (key == "meta") {
      if (!r.Is(v, od::json_type::object, Rank(kConfig, 4), "meta", false)) continue;
      for (od::field entry : v.get_object()) {
        std::string name(std::string_view(entry.unescaped_key()));
        od::value item = entry.value();
        // Strings as they are, other values as compact JSON (as nlohmann dumps them).
        if (od::json_type(item.type()) == od::json_type::string)
          meta[name] = std::string(std::string_view(item.get_string()));
        else
          meta[name] = nlohmann::json::parse(RawJson(item)).dump();
      }
    } else if (key == "persist_docs") {
      std::string_view docs = RawJson(v);
      *persist_docs = docs.size() > 2 && docs.front() == '{' &&
                      docs.find_first_not_of(" \t\r\n", 1) != docs.size() - 1;
    }
  }
  node->meta.assign(meta.begin(), meta.end());
}

// What a node's definition digests: views of the manifest's text, digested
// while the walk goes on (DefinitionDigester).
struct DefinitionText {
  std::array<std::string_view, kNodeFieldCount> raw{};
  bool persist_docs = false;
};

std::string DefinitionDigest(const DefinitionText& text) {
  Hasher h;
  auto add = [&](NodeField field) {
    // By meaning, not spelling: dbt writes some config maps with their keys
    // in a different order from one parse to the next.
    std::string_view raw = text.raw[field];
    uint64_t digest = CanonicalJsonHash(raw);
    h.Add(kNodeFieldNames[field])
        .Add(raw.empty() ? "" : std::string_view(reinterpret_cast<char*>(&digest), 8));
  };
  for (NodeField field : kDefinitionFields) add(field);
  if (text.persist_docs) {
    add(kDescription);
    add(kColumns);
  }
  return h.Hex();
}

// Digests the nodes' definitions while the manifest is read: the digests
// (the configs' canonical JSON above all) cost about as much as the walk
// over the document, which runs on one core. Once a manifest has many
// nodes, a helper thread digests each block of them as soon as the walk has
// read it, so the second core works during the walk instead of after it;
// at the end the calling thread helps with what is left. Each node's digest
// is its own, so the result does not depend on who computed it.
class DefinitionDigester {
 public:
  DefinitionDigester() = default;
  DefinitionDigester(const DefinitionDigester&) = delete;
  DefinitionDigester& operator=(const DefinitionDigester&) = delete;
  ~DefinitionDigester() { Stop(); }  // a failed parse: the helper's work is dropped

  // Where the next node's text goes. The texts handed out before are complete.
  DefinitionText* Next() {
    if (blocks_.empty() || blocks_.back()->size == kBlock) {
      if (!blocks_.empty()) Publish(blocks_.back().get());
      blocks_.push_back(std::make_unique<Block>());
    }
    Block& block = *blocks_.back();
    return &block.texts[block.size++];
  }

  // Hands the last block over to be digested: Next() is not called again.
  void Flush() {
    if (!blocks_.empty() && !flushed_) Publish(blocks_.back().get());
    flushed_ = true;
  }

  // Every node's digest, in the order of Next(). The texts must still view
  // the manifest's text.
  std::vector<std::string> Finish() {
    Flush();
    while (DigestOne()) {
    }
    Stop();
    if (failure_) std::rethrow_exception(failure_);
    std::vector<std::string> digests;
    digests.reserve(blocks_.size() * kBlock);
    for (auto& block : blocks_)
      for (size_t i = 0; i < block->size; ++i) digests.push_back(std::move(block->digests[i]));
    return digests;
  }

 private:
  static constexpr size_t kBlock = 256;
  static constexpr size_t kThreadedBlocks = 8;  // from 2,048 nodes on, a helper thread
  struct Block {
    std::array<DefinitionText, kBlock> texts;
    std::array<std::string, kBlock> digests;
    size_t size = 0;
  };

  // Hands a block whose texts are complete over to be digested.
  void Publish(Block* block) {
    {
      std::lock_guard lock(mutex_);
      ready_.push_back(block);
    }
    wake_.notify_one();
    if (!helper_.joinable() && blocks_.size() >= kThreadedBlocks) helper_ = std::jthread([this] { Help(); });
  }

  // Digests one published block; false when none is waiting.
  bool DigestOne() {
    Block* block;
    {
      std::lock_guard lock(mutex_);
      if (ready_.empty()) return false;
      block = ready_.front();
      ready_.pop_front();
    }
    for (size_t i = 0; i < block->size; ++i) block->digests[i] = DefinitionDigest(block->texts[i]);
    return true;
  }

  // The helper thread: digests blocks as they come until told to stop.
  void Help() {
    try {
      AdviseThreadHeap();
      for (;;) {
        {
          std::unique_lock lock(mutex_);
          wake_.wait(lock, [&] { return stop_ || !ready_.empty(); });
          if (stop_) return;
        }
        DigestOne();
      }
    } catch (...) {  // memory running out: rethrown by Finish
      failure_ = std::current_exception();
    }
  }

  void Stop() {
    if (!helper_.joinable()) return;
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    wake_.notify_one();
    helper_.join();
  }

  std::vector<std::unique_ptr<Block>> blocks_;  // only the reading thread touches it
  bool flushed_ = false;                         // the last block was published
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Block*> ready_;  // published, not yet taken
  bool stop_ = false;
  std::exception_ptr failure_;  // the helper's, set before it ends
  std::jthread helper_;         // last: joined before the rest goes
};

// The node's fields; what its definition digests goes into *definition.
ManifestNode ReadNode(od::object object, FieldReader& r, DefinitionText* definition) {
  ManifestNode node;
  std::array<std::string_view, kNodeFieldCount>& raw = definition->raw;
  std::array<bool, kNodeFieldCount> seen{};
  bool& persist_docs = definition->persist_docs;
  for (od::field field : object) {
    int id = Lookup(kNodeFieldNames, KeyOf(field));
    if (id < 0) continue;
    seen[id] = true;
    od::value v = field.value();
    switch (static_cast<NodeField>(id)) {
      case kUniqueId: node.unique_id = r.String(v, Rank(kUniqueId), "unique_id"); break;
      case kResourceType:
        node.resource_type = r.String(v, Rank(kResourceType), "resource_type");
        break;
      case kName: node.name = r.String(v, Rank(kName), "name"); break;
      case kPackageName: node.package_name = r.String(v, Rank(kPackageName), "package_name"); break;
      case kOriginalFilePath:
        node.original_file_path = r.String(v, Rank(kOriginalFilePath), "original_file_path");
        break;
      case kFqn: node.fqn = r.Strings(v, Rank(kFqn), "fqn"); break;
      case kDependsOn:  // seeds have macros only
        r.DependsOn(v, Rank(kDependsOn), &node.depends_on_nodes, &node.depends_on_macros);
        break;
      case kPatchPath: {
        std::string patch = r.String(v, Rank(kPatchPath), "patch_path", false);
        // "<package>://<path>": the path within that package. A root seed
        // may be patched by a package's yml, and the other way round.
        if (auto sep = patch.find("://"); sep != std::string::npos) {
          node.patch_package = patch.substr(0, sep);
          patch = patch.substr(sep + 3);
        }
        node.patch_path = patch;
        break;
      }
      case kConfig: ReadConfig(v, r, &node, &raw[kConfig], &persist_docs); break;
      case kChecksum:
        if (od::json_type(v.type()) == od::json_type::object) {
          od::object checksum = v.get_object();
          raw[kChecksum] = TrimEnd(checksum.raw_json());
          checksum.reset();
          for (od::field f : checksum) {
            if (KeyOf(f) != "name") continue;
            od::value name = f.value();
            node.checksum_is_path = od::json_type(name.type()) == od::json_type::string &&
                                    std::string_view(name.get_string()) == "path";
          }
        } else {
          raw[kChecksum] = RawJson(v);
        }
        break;
      default: raw[id] = RawJson(v); break;
    }
  }
  for (NodeField required : {kUniqueId, kResourceType, kName, kPackageName, kOriginalFilePath,
                             kFqn}) {
    if (!seen[required]) r.Lacks(Rank(required), kNodeFieldNames[required].data());
  }
  return node;
}

enum MacroField { kMacroUniqueId, kMacroPackageName, kMacroOriginalFilePath, kMacroDependsOn,
                  kMacroSql, kMacroFieldCount };
constexpr std::array<std::string_view, kMacroFieldCount> kMacroFieldNames = {
    "unique_id", "package_name", "original_file_path", "depends_on", "macro_sql"};

ManifestMacro ReadMacro(od::object object, FieldReader& r) {
  ManifestMacro macro;
  std::array<bool, kMacroFieldCount> seen{};
  std::string_view sql;
  for (od::field field : object) {
    int id = Lookup(kMacroFieldNames, KeyOf(field));
    if (id < 0) continue;
    seen[id] = true;
    od::value v = field.value();
    int rank = id * 10;
    switch (static_cast<MacroField>(id)) {
      case kMacroUniqueId: macro.unique_id = r.String(v, rank, "unique_id"); break;
      case kMacroPackageName: macro.package_name = r.String(v, rank, "package_name"); break;
      case kMacroOriginalFilePath:
        macro.original_file_path = r.String(v, rank, "original_file_path");
        break;
      case kMacroDependsOn: r.DependsOn(v, rank, nullptr, &macro.depends_on_macros); break;
      case kMacroSql:
        if (r.Is(v, od::json_type::string, rank, "macro_sql", false)) sql = RawJson(v);
        break;
      case kMacroFieldCount: break;
    }
  }
  for (MacroField required : {kMacroUniqueId, kMacroPackageName, kMacroOriginalFilePath}) {
    if (!seen[required]) r.Lacks(required * 10, kMacroFieldNames[required].data());
  }
  macro.sql_digest = Hasher().Add(sql).Hex();  // macros have no checksum
  return macro;
}

// Reads every entry of one top-level map (nodes, unit_tests, macros).
template <typename T, typename Read>
void ReadEntries(od::value& map, Check map_check, bool required, Check entry_check,
                 const char* what, Read read, Problems* problems, T* out) {
  const char* name = map_check == kNodesMap    ? "nodes"
                     : map_check == kMacrosMap ? "macros"
                                               : "unit_tests";
  FieldReader top(problems, map_check, "", "manifest");
  if (!top.Is(map, od::json_type::object, 0, name, required)) return;
  for (od::field field : map.get_object()) {
    std::string_view key = field.unescaped_key();
    od::value value = field.value();
    if (od::json_type(value.type()) != od::json_type::object) {
      problems->Add(entry_check, key, -1, fmt::format("{} '{}' is not an object", what, key));
      continue;
    }
    FieldReader r(problems, entry_check, key, nullptr, what);
    out->push_back(read(value.get_object(), r));
  }
}

// Reads metadata. Returns false when the schema is not v12: then nothing
// else in the manifest can be trusted to have the shapes read here.
bool ReadMetadata(od::value& value, Problems* problems, Manifest* manifest,
                  std::string* schema) {
  FieldReader top(problems, kMetadataCheck, "", "manifest");
  if (!top.Is(value, od::json_type::object, 0, "metadata", true)) return true;
  FieldReader r(problems, kMetadataCheck, "", "metadata");
  bool has_schema = false;
  for (od::field field : value.get_object()) {
    std::string_view key = KeyOf(field);
    od::value v = field.value();
    if (key == "dbt_schema_version") {
      has_schema = true;
      *schema = r.String(v, 1, "dbt_schema_version");
      if (od::json_type(v.type()) == od::json_type::string && *schema != kManifestSchemaV12)
        return false;
    } else if (key == "dbt_version") {
      manifest->dbt_version = r.String(v, 2, "dbt_version", false);
    } else if (key == "adapter_type") {
      manifest->adapter_type = r.String(v, 3, "adapter_type", false);
    } else if (key == "project_name") {
      manifest->project_name = r.String(v, 4, "project_name", false);
    }
  }
  if (!has_schema) r.Lacks(1, "dbt_schema_version");
  return true;
}

// nlohmann's verdict on the text, without building anything: its message
// for malformed JSON (with line and column), or empty when it is well formed.
std::string SyntaxError(std::string_view text) {
  struct Checker : nlohmann::json_sax<nlohmann::json> {
    bool null() override { return true; }
    bool boolean(bool) override { return true; }
    bool number_integer(number_integer_t) override { return true; }
    bool number_unsigned(number_unsigned_t) override { return true; }
    bool number_float(number_float_t, const string_t&) override { return true; }
    bool string(string_t&) override { return true; }
    bool binary(binary_t&) override { return true; }
    bool start_object(std::size_t) override { return true; }
    bool key(string_t&) override { return true; }
    bool end_object() override { return true; }
    bool start_array(std::size_t) override { return true; }
    bool end_array() override { return true; }
    bool parse_error(std::size_t, const std::string&,
                     const nlohmann::detail::exception& e) override {
      // e.what() is "[json.exception.parse_error.101] parse error at line 1, column 2: ..."
      message = e.what();
      if (auto pos = message.find("] "); pos != std::string::npos)
        message = message.substr(pos + 2);
      return false;
    }
    std::string message;
  } checker;
  nlohmann::json::sax_parse(text.begin(), text.end(), &checker);
  return checker.message;
}

// The order of the entries (nodes, macros) by unique_id: order[k] is the
// entry that belongs at k.
template <typename T>
std::vector<size_t> OrderById(const std::vector<T>& entries) {
  // The ids sorted side by side with their indices: sorting the indices
  // reached an entry (hundreds of bytes from the next) for every comparison.
  std::vector<std::pair<std::string_view, size_t>> ids(entries.size());
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = {entries[i].unique_id, i};
  std::sort(ids.begin(), ids.end());  // equal ids (reported later) by index
  std::vector<size_t> order(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) order[i] = ids[i].second;
  return order;
}

// Puts the entries in `order` (OrderById) where they are: each is moved
// once, into its place, and no second array of them is made (its pages
// would be fresh memory, zeroed by the kernel, 14 MB for 30,000 nodes).
template <typename T>
void Reorder(const std::vector<size_t>& order, std::vector<T>* entries) {
  std::vector<bool> placed(order.size());
  for (size_t i = 0; i < order.size(); ++i) {
    if (placed[i] || order[i] == i) continue;
    T first = std::move((*entries)[i]);  // one cycle of the permutation
    size_t j = i;
    for (;;) {
      placed[j] = true;
      size_t from = order[j];
      if (from == i) {
        (*entries)[j] = std::move(first);
        break;
      }
      (*entries)[j] = std::move((*entries)[from]);
      j = from;
    }
  }
}

// What is wrong with a path from the manifest that becomes an input of
// build.ninja, or "". It must stay inside its package folder: a manifest
// naming ../../etc/passwd or /etc/passwd is not dbt's. And Ninja must be
// able to stat it: stat() of a name longer than NAME_MAX fails with
// ENAMETOOLONG, which Ninja reports as an error on every run.
std::string PathProblem(std::string_view path) {
  // A relative path of 255 bytes or fewer without ".." in it has no part
  // that is ".." or longer than 255: nearly every path, settled without
  // cutting it into parts (60,000 paths at 30,000 nodes).
  if (path.size() <= 255 && (path.empty() || path.front() != '/') &&
      path.find("..") == std::string_view::npos)
    return "";
  if (!path.empty() && path.front() == '/') return "is absolute; it should be relative to its package";
  if (path.size() >= 4096) return "is longer than 4095 bytes";
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = std::min(path.find('/', start), path.size());
    std::string_view part = path.substr(start, end - start);
    if (part == "..") return "leaves its package folder";
    if (part.size() > 255) return "has a name longer than 255 bytes";
    start = end + 1;
  }
  return "";
}

// The checks across entries, once each is read: unique_ids are unique (two
// entries, or one key twice, would count a node twice), and every path that
// becomes a Ninja input is safe to give Ninja.
std::string CrossCheck(const Manifest& manifest) {
  for (size_t i = 1; i < manifest.nodes.size(); ++i)
    if (manifest.nodes[i].unique_id == manifest.nodes[i - 1].unique_id)
      return fmt::format("node '{}' is there twice (duplicate unique_id)", manifest.nodes[i].unique_id);
  for (size_t i = 1; i < manifest.macros.size(); ++i)
    if (manifest.macros[i].unique_id == manifest.macros[i - 1].unique_id)
      return fmt::format("macro '{}' is there twice (duplicate unique_id)",
                         manifest.macros[i].unique_id);
  for (const ManifestNode& node : manifest.nodes) {
    for (const auto& [field, path] : {std::pair{"original_file_path", &node.original_file_path},
                                      std::pair{"patch_path", &node.patch_path}}) {
      if (std::string why = PathProblem(*path); !why.empty())
        return fmt::format("node '{}': {} '{}' {}", node.unique_id, field, *path, why);
    }
  }
  for (const ManifestMacro& macro : manifest.macros) {
    if (std::string why = PathProblem(macro.original_file_path); !why.empty())
      return fmt::format("macro '{}': original_file_path '{}' {}", macro.unique_id,
                         macro.original_file_path, why);
  }
  return "";
}

// `text` is followed by at least SIMDJSON_PADDING readable bytes.
// `prepared`: a parser made for it (PreparedParser), or null.
bool Parse(std::string_view text, const std::string& filename, Manifest* manifest,
           std::string* err, PreparedParser* prepared = nullptr) {
  *manifest = Manifest();
  Problems problems;
  // `nodes` and `unit_tests`, as read. Room for more than a manifest of
  // this size holds (dbt writes at least 1 KB per node): they are never
  // moved while read, and pages reserved but never touched cost no memory.
  std::vector<ManifestNode> nodes;
  nodes.reserve(text.size() / 1024 + 16);
  DefinitionDigester definitions;  // one per node, digested while the rest is read
  auto read_node = [&](od::object object, FieldReader& r) {
    return ReadNode(object, r, definitions.Next());
  };
  // Fewer and smaller than nodes: growing the vector moves them (their
  // strings move, no copy), cheap beside reading them.
  std::vector<ManifestMacro> macros;
  std::string error;  // set when the result is decided before every check ran
  od::parser own;
  if (!prepared || prepared->size() < text.size())
    AllocateParser(&own, text.size());  // what iterate() would allocate, on huge pages
  od::parser& parser = prepared && prepared->size() >= text.size() ? prepared->parser() : own;
  try {
    od::document doc = parser.iterate(text, text.size() + simdjson::SIMDJSON_PADDING);
    if (od::json_type(doc.type()) != od::json_type::object) {
      error = "not a dbt manifest (the top level is not an object)";
    } else {
      bool has_metadata = false, has_nodes = false, has_macros = false;
      for (od::field field : doc.get_object()) {
        std::string_view key = KeyOf(field);
        od::value value = field.value();
        if (key == "metadata") {
          has_metadata = true;
          std::string schema;
          if (!ReadMetadata(value, &problems, manifest, &schema)) {
            error = fmt::format(
                "unsupported manifest schema '{}' (pa-gen reads {}, dbt 1.8 to 1.12)", schema,
                kManifestSchemaV12);
            break;
          }
        } else if (key == "nodes") {
          has_nodes = true;
          ReadEntries(value, kNodesMap, true, kNodeEntries, "node", read_node, &problems,
                      &nodes);
        } else if (key == "unit_tests") {
          ReadEntries(value, kUnitTestsMap, false, kUnitTestEntries, "node", read_node, &problems,
                      &nodes);
        } else if (key == "macros") {
          has_macros = true;
          ReadEntries(value, kMacrosMap, true, kMacroEntries, "macro", ReadMacro, &problems,
                      &macros);
        }
      }
      if (error.empty()) {
        if (!has_metadata)
          problems.Add(kMetadataCheck, "", 0, "manifest lacks required field 'metadata'");
        if (!has_nodes) problems.Add(kNodesMap, "", 0, "manifest lacks required field 'nodes'");
        if (!has_macros) problems.Add(kMacrosMap, "", 0, "manifest lacks required field 'macros'");
        // Anything after the top-level object.
        if (!doc.current_location().error())
          throw simdjson::simdjson_error(simdjson::TRAILING_CONTENT);
      }
    }
  } catch (const simdjson::simdjson_error& e) {
    std::string syntax = SyntaxError(text);
    *err = syntax.empty() ? fmt::format("{}: cannot read the JSON: {}", filename, e.what())
                          : fmt::format("{}: malformed JSON: {}", filename, syntax);
    return false;
  } catch (const nlohmann::json::exception& e) {  // a meta value: malformed inside
    std::string syntax = SyntaxError(text);
    *err = fmt::format("{}: malformed JSON: {}", filename, syntax.empty() ? e.what() : syntax);
    return false;
  }
  if (!error.empty() || !problems.empty()) {
    // A malformed document is reported as such, whatever else is wrong.
    std::string syntax = SyntaxError(text);
    if (!syntax.empty()) error = "malformed JSON: " + syntax;
    *err = fmt::format("{}: {}", filename, error.empty() ? problems.message() : error);
    return false;
  }
  // The nodes' order is found while the helper digests the last blocks
  // (it needs only their unique_ids); the digests are taken while the text
  // they view is there, and the nodes moved into their order with them.
  definitions.Flush();
  std::vector<size_t> node_order = OrderById(nodes);
  std::vector<std::string> digests = definitions.Finish();
  for (size_t i = 0; i < nodes.size(); ++i) nodes[i].definition = std::move(digests[i]);
  Reorder(node_order, &nodes);
  manifest->nodes = std::move(nodes);
  Reorder(OrderById(macros), &macros);
  manifest->macros = std::move(macros);
  if (std::string problem = CrossCheck(*manifest); !problem.empty()) {
    // Long names are cut: the line stays readable.
    if (problem.size() > 400) problem = problem.substr(0, 300) + "...";
    *err = fmt::format("{}: {}", filename, problem);
    *manifest = Manifest();
    return false;
  }
  return true;
}

}  // namespace

// PA_MANIFEST_ON_HEAP (the fuzz and sanitizer build, tests/fuzz): the text
// goes into an ordinary allocation of exactly size + padding, which
// AddressSanitizer guards; a read past it is reported. An mmap'd block is
// whole pages, and ASan cannot see a read past the text into the rest of
// the page. That build never maps the file either.
#ifdef PA_MANIFEST_ON_HEAP
void ManifestTextUnmap::operator()(char* p) const { delete[] p; }
#else

namespace {

// The file mapping being read, guarded against SIGBUS: a file cut short
// while mapped (dbt rewriting manifest.json with open("w")) makes every
// access to its pages past the new end a SIGBUS, which would end pa-gen.
// The handler maps a page of zeros there instead (NUL bytes are no JSON)
// and notes it; ParseManifestText then reads the file again, as it is now.
// One mapping at a time; another one reads the file into memory.
struct GuardedMapping {
  std::atomic<uintptr_t> start{0};
  std::atomic<size_t> length{0};
  std::atomic<bool> lost{false};
  size_t page = 4096;
  struct sigaction previous {};
};
GuardedMapping g_mapping;
std::atomic<bool> g_mapping_busy{false};

void OnSigbus(int, siginfo_t* info, void*) {
  uintptr_t address = reinterpret_cast<uintptr_t>(info->si_addr);
  uintptr_t start = g_mapping.start.load();
  if (start && address >= start && address < start + g_mapping.length.load()) {
    void* page = reinterpret_cast<void*>(address & ~(g_mapping.page - 1));
    if (mmap(page, g_mapping.page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
             -1, 0) != MAP_FAILED) {
      g_mapping.lost = true;
      return;  // the access is made again, on the zeros
    }
  }
  // Not the manifest's: as without the guard (the access faults again).
  sigaction(SIGBUS, &g_mapping.previous, nullptr);
}

void Unguard(char* p) {
  if (g_mapping.start.load() != reinterpret_cast<uintptr_t>(p)) return;
  sigaction(SIGBUS, &g_mapping.previous, nullptr);
  g_mapping.start = 0;
  g_mapping.length = 0;
  g_mapping_busy = false;
}

}  // namespace

void ManifestTextUnmap::operator()(char* p) const {
  Unguard(p);
  munmap(p, length);
}
#endif

namespace {

// Room for `size` bytes and the padding, its pages mapped at once (a 40 MB
// manifest would otherwise take 10,000 page faults while being read).
std::unique_ptr<char[], ManifestTextUnmap> AllocateText(size_t size) {
  size_t length = size + ManifestText::kPadding;
#ifdef PA_MANIFEST_ON_HEAP
  return {new char[length], {length}};
#else
  void* p = mmap(nullptr, length, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  return {static_cast<char*>(p), {length}};
#endif
}

bool ReadIntoMemory(const FileReader& file, size_t capacity, ManifestText* text,
                    std::string* err) {
  auto bytes = AllocateText(capacity);
  size_t size = 0;
  if (!file.ReadUpTo(bytes.get(), capacity, &size, err)) return false;
  std::memset(bytes.get() + size, ' ', ManifestText::kPadding);
  text->bytes = std::move(bytes);
  text->size = size;
  return true;
}

#ifndef PA_MANIFEST_ON_HEAP
// Maps a regular file's pages where they are in the page cache: no copy
// and no zeroed pages for the file (reading it into memory was a tenth of
// generating from a 98 MB manifest). The padding lies in the file's last
// page (a private copy of it) or in the anonymous page after it. False
// (nothing done) when it cannot: then the file is read into memory.
bool MapText(const FileReader& file, size_t size, ManifestText* text) {
  struct stat st;
  if (size == 0 || fstat(file.fd(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  bool busy = false;
  if (!g_mapping_busy.compare_exchange_strong(busy, true)) return false;
  size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  size_t length = (size + ManifestText::kPadding + page - 1) / page * page;
  void* region = mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (region == MAP_FAILED) {
    g_mapping_busy = false;
    return false;
  }
  std::unique_ptr<char[], ManifestTextUnmap> bytes(static_cast<char*>(region), {length});
  g_mapping.page = page;
  g_mapping.lost = false;
  g_mapping.length = length;
  g_mapping.start = reinterpret_cast<uintptr_t>(region);
  struct sigaction action {};
  action.sa_sigaction = OnSigbus;
  action.sa_flags = SA_SIGINFO;
  sigemptyset(&action.sa_mask);
  if (sigaction(SIGBUS, &action, &g_mapping.previous) != 0) {
    g_mapping.start = 0;
    g_mapping_busy = false;
    return false;
  }
  if (mmap(region, size, PROT_READ, MAP_PRIVATE | MAP_FIXED | MAP_POPULATE, file.fd(), 0) ==
      MAP_FAILED)
    return false;  // bytes unmaps the region and unguards it
  size_t tail = size / page * page;  // the page the padding starts in
  if (tail < size && mprotect(static_cast<char*>(region) + tail, page, PROT_READ | PROT_WRITE) != 0)
    return false;
  std::memset(static_cast<char*>(region) + size, ' ', ManifestText::kPadding);
  text->bytes = std::move(bytes);
  text->size = size;
  text->mapped = true;
  text->path = file.path();
  return true;
}
#endif

}  // namespace

bool ReadManifestText(const fs::path& path, ManifestText* text, std::string* err) {
  FileReader file(path);
  if (!file.Open(err)) return false;
  // As large as the file was when opened; a file that grows meanwhile reads as truncated.
  size_t capacity = file.Size();
  // Its index is made ready while the file's pages are mapped or read.
  if (capacity >= PreparedParser::kPrepareAbove) text->parser = std::make_shared<PreparedParser>(capacity);
#ifndef PA_MANIFEST_ON_HEAP
  if (MapText(file, capacity, text)) return true;
#endif
  return ReadIntoMemory(file, capacity, text, err);
}

bool ParseManifestText(const ManifestText& text, const std::string& filename, Manifest* manifest,
                       std::string* err) {
  bool parsed = Parse(text.view(), filename, manifest, err, text.parser.get());
#ifndef PA_MANIFEST_ON_HEAP
  if (text.mapped && g_mapping.lost.load()) {
    // Cut short while mapped: read as it is now, as an unmapped read would have.
    *manifest = Manifest();
    FileReader file(text.path);
    ManifestText again;
    if (!file.Open(err) || !ReadIntoMemory(file, file.Size(), &again, err)) return false;
    parsed = Parse(again.view(), filename, manifest, err);
  }
#endif
  if (parsed) return true;
  // The messages quote keys and paths from the manifest, which may hold
  // newlines (the fuzzer's first find): the error stays one line.
  NewlinesToSpaces(err);
  return false;
}

bool ParseManifest(std::string_view json, const std::string& filename, Manifest* manifest,
                   std::string* err) {
  ManifestText text;
  text.bytes = AllocateText(json.size());
  if (!json.empty()) std::memcpy(text.bytes.get(), json.data(), json.size());
  std::memset(text.bytes.get() + json.size(), ' ', ManifestText::kPadding);
  text.size = json.size();
  return ParseManifestText(text, filename, manifest, err);
}

bool LoadManifest(const fs::path& path, Manifest* manifest, std::string* err) {
  ManifestText text;
  return ReadManifestText(path, &text, err) &&
         ParseManifestText(text, path.string(), manifest, err);
}
