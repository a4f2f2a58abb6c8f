#include "sqlite_rows.hpp"

#include <sqlite3.h>

#include <fmt/format.h>

namespace mlctl::test {

Rows sql_rows(const std::filesystem::path& db, const std::string& sql) {
  sqlite3* connection = nullptr;
  Rows rows;
  auto refused = [&](std::string_view doing) {
    return Rows{{fmt::format("<error: {}: {}>", doing, sqlite3_errmsg(connection))}};
  };
  // Read-write (never created), as the next mlctl would open it, so that a hot journal left by a
  // killed writer is rolled back instead of making the check fail; the SQL only reads.
  if (sqlite3_open_v2(db.c_str(), &connection, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    rows = refused("opening " + db.string());
    sqlite3_close(connection);
    return rows;
  }
  // A writer killed a moment ago may still be letting go of its locks.
  sqlite3_busy_timeout(connection, 10'000);
  sqlite3_stmt* statement = nullptr;
  if (sqlite3_prepare_v2(connection, sql.c_str(), -1, &statement, nullptr) != SQLITE_OK) {
    rows = refused("preparing " + sql);
  } else {
    int rc = SQLITE_ROW;
    while ((rc = sqlite3_step(statement)) == SQLITE_ROW) {
      auto& row = rows.emplace_back();
      for (int column = 0; column < sqlite3_column_count(statement); ++column) {
        const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(statement, column));
        row.emplace_back(text ? text : "NULL");
      }
    }
    if (rc != SQLITE_DONE) rows = refused("running " + sql);
  }
  sqlite3_finalize(statement);
  sqlite3_close(connection);
  return rows;
}

}  // namespace mlctl::test
