#include <mlctl/models/sqlite.hpp>

#include <sqlite3.h>

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <fmt/format.h>

namespace mlctl::models {

namespace {

// How long a writer waits for another's transaction before giving up.
constexpr int k_busy_timeout_ms = 30'000;

// The file a connection has open, for messages ("" for an in-memory database).
std::string file_of(sqlite3* db) {
  const char* name = db ? sqlite3_db_filename(db, "main") : nullptr;
  return name ? name : "";
}

// Two failures a user can act on get a reason and what to do. SQLite says "database or disk is
// full" for both; the registry sets no page limit, so it is the disk. "database is locked" after
// the busy timeout means another process held the file all that time. Either way the failed
// transaction was rolled back, so running the command again is safe.
Error explained(Error error, int code, const std::filesystem::path& file) {
  if (file.empty()) return error;
  if ((code & 0xff) == SQLITE_BUSY)
    return Error(error.code(), error.message(),
                 fmt::format("another process held the database for {} s: run the command again (fuser {} "
                             "shows who has it open)",
                             k_busy_timeout_ms / 1000, file.string()));
  if ((code & 0xff) != SQLITE_FULL) return error;
  std::string folder = file.parent_path().string();
  return Error(error.code(), fmt::format("{}: no space left on the file system that holds it", error.message()),
               fmt::format("free space on the file system of {} (df -h {}), then run the command again", folder,
                           folder));
}

Error sqlite_error(sqlite3* db, int code, std::string_view doing) {
  std::string message = db ? sqlite3_errmsg(db) : sqlite3_errstr(code);
  return explained(Error(Errc::failed, fmt::format("{}: {}", doing, message)), code, file_of(db));
}

// Whether the file at `path` is an SQLite database in WAL mode: bytes 18 and 19 of its header
// (the file format's read and write versions) are 2 (https://www.sqlite.org/fileformat.html).
bool in_wal_mode(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  unsigned char header[20] = {};
  bool read = ::pread(fd, header, sizeof header, 0) == static_cast<ssize_t>(sizeof header);
  ::close(fd);
  return read && header[18] == 2 && header[19] == 2;
}

}  // namespace

Statement::~Statement() {
  if (statement_) sqlite3_finalize(statement_);
}

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_), statement_(other.statement_), bind_error_(std::move(other.bind_error_)) {
  other.statement_ = nullptr;
}

Statement& Statement::bind(int index, const SqlValue& value) {
  int rc = std::visit(
      [&](const auto& v) -> int {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::nullptr_t>) return sqlite3_bind_null(statement_, index);
        else if constexpr (std::is_same_v<T, std::int64_t>) return sqlite3_bind_int64(statement_, index, v);
        else if constexpr (std::is_same_v<T, double>) return sqlite3_bind_double(statement_, index, v);
        else return sqlite3_bind_text(statement_, index, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
      },
      value);
  if (rc != SQLITE_OK && !bind_error_) bind_error_ = sqlite_error(db_, rc, "binding a parameter");
  return *this;
}

Statement& Statement::bind_all(const std::vector<SqlValue>& values, int first) {
  for (std::size_t i = 0; i < values.size(); ++i) bind(first + static_cast<int>(i), values[i]);
  return *this;
}

Result<bool> Statement::step() {
  if (bind_error_) return std::unexpected(*bind_error_);
  int rc = sqlite3_step(statement_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  std::string file = file_of(db_);
  return std::unexpected(sqlite_error(db_, rc, file.empty() ? "registry database" : "registry database " + file));
}

Result<void> Statement::run() {
  while (true) {
    auto row = step();
    if (!row) return std::unexpected(row.error());
    if (!*row) return {};
  }
}

bool Statement::is_null(int column) const { return sqlite3_column_type(statement_, column) == SQLITE_NULL; }
std::int64_t Statement::integer(int column) const { return sqlite3_column_int64(statement_, column); }
double Statement::real(int column) const { return sqlite3_column_double(statement_, column); }

std::string Statement::text(int column) const {
  const auto* data = reinterpret_cast<const char*>(sqlite3_column_text(statement_, column));
  return data ? std::string(data, static_cast<std::size_t>(sqlite3_column_bytes(statement_, column))) : std::string();
}

std::optional<std::string> Statement::optional_text(int column) const {
  if (is_null(column)) return std::nullopt;
  return text(column);
}

std::optional<std::int64_t> Statement::optional_integer(int column) const {
  if (is_null(column)) return std::nullopt;
  return integer(column);
}

Result<Database> Database::open(const std::filesystem::path& path, OpenMode mode) {
  // No bulk page-cache allocation per connection (SQLite's default is 20 pages, each touched to
  // chain it into a free list: 20 page faults at every start for a query that reads a handful of
  // pages); pages are allocated as they are read. Must precede SQLite's initialisation, hence once
  // here, before the first open; if something initialised SQLite before, it stays as it was.
  static const bool configured = [] { return sqlite3_config(SQLITE_CONFIG_PAGECACHE, nullptr, 0, 0) == SQLITE_OK; }();
  (void)configured;
  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (mode == OpenMode::create ? SQLITE_OPEN_CREATE : 0);
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    Error error = sqlite_error(db, rc, fmt::format("opening registry database {}", path.string()));
    sqlite3_close(db);
    if (mode == OpenMode::existing && rc == SQLITE_CANTOPEN)
      return fail(Errc::not_found, fmt::format("registry database {} does not exist", path.string()));
    return std::unexpected(error);
  }
  Database database(db, path);
  sqlite3_busy_timeout(db, k_busy_timeout_ms);
  sqlite3_extended_result_codes(db, 1);
  // WAL mode is stored in the file, so it is set once, when the file is new; asking again on every
  // open would read the schema each time. Switching needs a moment of exclusive access that the
  // busy handler does not always cover when many processes create the file at once, so retry it
  // for as long as the timeout.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(k_busy_timeout_ms);
  while (!in_wal_mode(path)) {
    auto wal = database.exec("PRAGMA journal_mode=WAL");
    if (wal) break;
    if (std::chrono::steady_clock::now() > deadline) return std::unexpected(wal.error());
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  // Keep -wal and -shm when the last connection closes instead of deleting them, so that the next
  // process does not create, size and map them again; but empty the -wal once the closing
  // checkpoint has copied it (journal_size_limit=0). A -wal left full would be read back by every
  // process that opens the file after it (the -shm is rebuilt by the first connection), and
  // checkpointed and synced again when it closes: three fdatasyncs for a read-only query.
  int persist = 1;
  sqlite3_file_control(db, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
  if (auto set = database.exec("PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL; PRAGMA journal_size_limit=0"); !set)
    return std::unexpected(set.error());
  return database;
}

Database::~Database() {
  if (db_) sqlite3_close_v2(db_);
}

Database::Database(Database&& other) noexcept : db_(other.db_), path_(std::move(other.path_)) { other.db_ = nullptr; }

Result<Statement> Database::prepare(std::string_view sql) {
  sqlite3_stmt* statement = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &statement, nullptr);
  if (rc != SQLITE_OK) return std::unexpected(sqlite_error(db_, rc, "preparing a registry query"));
  return Statement(db_, statement);
}

Result<void> Database::exec(std::string_view sql) {
  char* message = nullptr;
  int rc = sqlite3_exec(db_, std::string(sql).c_str(), nullptr, nullptr, &message);
  if (rc == SQLITE_OK) return {};
  std::string text = message ? message : sqlite3_errstr(rc);
  sqlite3_free(message);
  return std::unexpected(
      explained(Error(Errc::failed, fmt::format("registry database {}: {}", path_.string(), text)), rc, path_));
}

std::int64_t Database::last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }

Result<WriteTransaction> WriteTransaction::begin(Database& db) {
  if (auto begun = db.exec("BEGIN IMMEDIATE"); !begun) return std::unexpected(begun.error());
  return WriteTransaction(&db);
}

WriteTransaction::~WriteTransaction() {
  if (db_) (void)db_->exec("ROLLBACK");
}

Result<void> WriteTransaction::commit() {
  auto committed = db_->exec("COMMIT");
  if (committed) db_ = nullptr;
  return committed;
}

}  // namespace mlctl::models
