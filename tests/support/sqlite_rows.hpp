#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace mlctl::test {

using Rows = std::vector<std::vector<std::string>>;

// Every row of `sql` on the existing database `db`, each column as text ("NULL" for NULL); one row
// {"<error: ...>"} when SQLite refuses, so that a failed comparison shows why. Link mlctl_sqlite3.
Rows sql_rows(const std::filesystem::path& db, const std::string& sql);

}  // namespace mlctl::test
