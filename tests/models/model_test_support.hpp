#pragma once

#include <support/run.hpp>
#include <support/temp_dir.hpp>

#include <sqlite3.h>

#include <filesystem>
#include <map>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace mlctl::test {

// A registry database in a temp folder, driven through the real mlctl binary.
class ModelCli : public ::testing::Test {
protected:
  std::map<std::string, std::string> env() const {
    return {{"MLCTL_REGISTRY_DB", (dir_ / "registry.db").string()}, {"MLCTL_ACTOR", "tester"}};
  }
  core::Completed mlctl(std::vector<std::string> args) const {
    args.insert(args.begin(), "model");
    return run_mlctl(args, dir_.path(), env());
  }
  // The first column of the first row of `sql`, read straight from the file.
  std::string query(const std::string& sql) const {
    sqlite3* db = nullptr;
    std::string value = "<error>";
    if (sqlite3_open_v2((dir_ / "registry.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
      sqlite3_stmt* statement = nullptr;
      if (sqlite3_prepare_v2(db, sql.c_str(), -1, &statement, nullptr) == SQLITE_OK) {
        int rc = sqlite3_step(statement);
        if (rc == SQLITE_ROW) value = sqlite3_column_text(statement, 0) ? (const char*)sqlite3_column_text(statement, 0) : "NULL";
        else if (rc == SQLITE_DONE) value = "<none>";
      }
      sqlite3_finalize(statement);
    }
    sqlite3_close(db);
    return value;
  }

  TempDir dir_;
};

// `mlctl model fetch` as a serving pod's init container runs it: in an empty folder of its own.
class ModelFetch : public ModelCli {
protected:
  // What the registry records for a new version of `path` (artifact_uri, artifact_digest, ...),
  // stored in `store` (none: the local store).
  nlohmann::json registered(const std::string& path, const std::string& store = "") {
    std::vector<std::string> args{"register", "fraud", "--artifact", path, "-o", "json"};
    if (!store.empty()) args.insert(args.end(), {"--artifact-store", store});
    auto done = mlctl(args);
    EXPECT_EQ(done.exit_code, 0) << done.err;
    auto version = nlohmann::json::parse(done.out)["version"].dump();
    return nlohmann::json::parse(mlctl({"show", "fraud@" + version, "-o", "json"}).out);
  }
  // `mlctl model fetch ARGS` in pod_, where no registry could be found.
  core::Completed fetch(std::vector<std::string> args) const {
    args.insert(args.begin(), {"model", "fetch"});
    return run_mlctl(args, pod_.path(), {{"MLCTL_REGISTRY_DB", ""}, {"MLCTL_ARTIFACT_STORE", ""}});
  }

  TempDir pod_;
};

}  // namespace mlctl::test
