#pragma once

#include <mlctl/core/error.hpp>
#include <mlctl/models/sqlite.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace mlctl::models {

// One `FIELD OP VALUE` of a --where or --require expression.
struct Condition {
  std::string field{};  // version, created_at, flavor, metrics.KEY, params.KEY, tags.KEY
  std::string op{};     // == != < <= > >=
  std::string value{};

  std::string str() const { return field + " " + op + " " + value; }
};

// Conditions joined by `and`: "metrics.auc >= 0.9 and tags.team == fraud".
Result<std::vector<Condition>> parse_filter(std::string_view text);

// SQL text with `?` placeholders and the values to bind to them, in order.
struct SqlFragment {
  std::string sql{};
  std::vector<SqlValue> values{};
};

// The SQL expression for a field of the versions row `v` (metrics live in a JSON column).
Result<SqlFragment> field_sql(std::string_view field);

// The conditions as one SQL boolean expression over `v`; a version lacking a field never matches.
Result<SqlFragment> compile_filter(const std::vector<Condition>& conditions);

// Metric, param and tag keys: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}.
Result<void> check_key(std::string_view key);

}  // namespace mlctl::models
