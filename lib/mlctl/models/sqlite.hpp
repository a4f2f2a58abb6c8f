#pragma once

#include <mlctl/core/error.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace mlctl::models {

// A value bound to a statement parameter; user input only ever reaches SQLite this way.
using SqlValue = std::variant<std::nullptr_t, std::int64_t, double, std::string>;

class Statement {
public:
  Statement(sqlite3* db, sqlite3_stmt* statement) : db_(db), statement_(statement) {}
  ~Statement();
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;

  // Parameters are 1-based, as in SQLite.
  Statement& bind(int index, const SqlValue& value);
  Statement& bind_all(const std::vector<SqlValue>& values, int first = 1);

  // One step: true when a row is ready, false when done. Errors name the SQLite message.
  Result<bool> step();
  // Steps to the end, for statements that return no rows.
  Result<void> run();

  bool is_null(int column) const;
  std::int64_t integer(int column) const;
  double real(int column) const;
  std::string text(int column) const;
  std::optional<std::string> optional_text(int column) const;
  std::optional<std::int64_t> optional_integer(int column) const;

private:
  sqlite3* db_;
  sqlite3_stmt* statement_;
  std::optional<Error> bind_error_;
};

enum class OpenMode { create, existing };

// One connection, configured for many writers: WAL, foreign keys, a busy timeout.
class Database {
public:
  static Result<Database> open(const std::filesystem::path& path, OpenMode mode);
  ~Database();
  Database(Database&& other) noexcept;
  Database& operator=(Database&&) = delete;
  Database(const Database&) = delete;

  Result<Statement> prepare(std::string_view sql);
  // Runs fixed SQL (schema, pragmas, transaction control); never text built from input.
  Result<void> exec(std::string_view sql);
  std::int64_t last_insert_rowid() const;
  const std::filesystem::path& path() const { return path_; }

private:
  Database(sqlite3* db, std::filesystem::path path) : db_(db), path_(std::move(path)) {}
  sqlite3* db_;
  std::filesystem::path path_;
};

// A write transaction taken with BEGIN IMMEDIATE, so concurrent writers queue on the busy
// timeout at the start instead of failing when a read would turn into a write. Rolled back
// unless committed.
class WriteTransaction {
public:
  static Result<WriteTransaction> begin(Database& db);
  ~WriteTransaction();
  WriteTransaction(WriteTransaction&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }
  WriteTransaction(const WriteTransaction&) = delete;
  Result<void> commit();

private:
  explicit WriteTransaction(Database* db) : db_(db) {}
  Database* db_;
};

}  // namespace mlctl::models
