#pragma once

#include <string>
#include <utility>

#include "util/disk.h"
#include "util/fs.h"

// The project's .pa/ when this generation made it: removed again when the
// generation fails (bad input leaves things as they were) and after a
// read-only one (status, explain, graph create no state), whatever made
// it: the lock, the identity key, the parse, a worker's socket. dbt's
// output named in the error moves out first, to the temporary folder, so
// that the error still points at it.
//
// `disk` is where those were written: the real files, even under a
// read-only generation's overlay (Disk::Beneath).
class FreshStateRoot {
 public:
  FreshStateRoot(Disk& disk, fs::path dir, bool read_only, std::string* err)
      : disk_(disk), dir_(std::move(dir)), read_only_(read_only), err_(err) {}
  FreshStateRoot(const FreshStateRoot&) = delete;
  FreshStateRoot& operator=(const FreshStateRoot&) = delete;
  void Succeeded() { succeeded_ = true; }
  ~FreshStateRoot();

 private:
  void KeepNamedOutput();

  Disk& disk_;
  fs::path dir_;
  bool read_only_;
  std::string* err_;
  bool succeeded_ = false;
};
