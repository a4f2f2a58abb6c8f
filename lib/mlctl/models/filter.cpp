#include <mlctl/models/filter.hpp>

#include <mlctl/models/time.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <optional>

#include <fmt/format.h>

namespace mlctl::models {

namespace {

constexpr std::array<std::string_view, 6> k_ops = {"==", "!=", "<=", ">=", "<", ">"};
constexpr std::string_view k_filter_hint =
    "write FIELD OP VALUE [and ...]: FIELD is version, created_at, flavor, metrics.KEY, params.KEY or tags.KEY; "
    "OP is == != < <= > >=";

bool is_space(char c) { return c == ' ' || c == '\t'; }

std::optional<double> to_number(std::string_view text) {
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || !std::isfinite(value)) return std::nullopt;
  return value;
}

std::string sql_op(std::string_view op) { return op == "==" ? "=" : op == "!=" ? "<>" : std::string(op); }

class Scanner {
public:
  explicit Scanner(std::string_view text) : text_(text) {}
  void skip_space() {
    while (at_ < text_.size() && is_space(text_[at_])) ++at_;
  }
  bool done() {
    skip_space();
    return at_ >= text_.size();
  }
  std::string word() {
    skip_space();
    std::size_t start = at_;
    while (at_ < text_.size() && !is_space(text_[at_]) && !std::string_view("=!<>").contains(text_[at_])) ++at_;
    return std::string(text_.substr(start, at_ - start));
  }
  std::string op() {
    skip_space();
    for (auto candidate : k_ops)
      if (text_.substr(at_).starts_with(candidate)) {
        at_ += candidate.size();
        return std::string(candidate);
      }
    return {};
  }
  std::optional<std::string> value() {
    skip_space();
    if (at_ < text_.size() && (text_[at_] == '\'' || text_[at_] == '"')) {
      char quote = text_[at_++];
      auto end = text_.find(quote, at_);
      if (end == std::string_view::npos) return std::nullopt;
      std::string value(text_.substr(at_, end - at_));
      at_ = end + 1;
      return value;
    }
    std::size_t start = at_;
    while (at_ < text_.size() && !is_space(text_[at_])) ++at_;
    if (start == at_) return std::nullopt;
    return std::string(text_.substr(start, at_ - start));
  }

private:
  std::string_view text_;
  std::size_t at_ = 0;
};

}  // namespace

Result<void> check_key(std::string_view key) {
  bool ok = !key.empty() && key.size() <= 128 && key[0] != '.' && key[0] != '-' &&
            std::ranges::all_of(key, [](char c) {
              return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                     c == '.' || c == '-';
            });
  if (ok) return {};
  return fail(Errc::invalid,
              fmt::format("'{}' is not a valid key: letters, digits, '_', '.' and '-', at most 128, "
                          "not starting with '.' or '-'",
                          key));
}

Result<std::vector<Condition>> parse_filter(std::string_view text) {
  std::vector<Condition> conditions;
  Scanner scanner(text);
  auto bad = [&](std::string why) {
    return fail(Errc::invalid, fmt::format("cannot read the expression '{}': {}", text, why), std::string(k_filter_hint));
  };
  while (true) {
    Condition condition;
    condition.field = scanner.word();
    if (condition.field.empty()) return bad("expected a field");
    if (auto field = field_sql(condition.field); !field) return bad(field.error().message());
    condition.op = scanner.op();
    if (condition.op.empty()) return bad(fmt::format("expected an operator after '{}'", condition.field));
    auto value = scanner.value();
    if (!value) return bad(fmt::format("expected a value after '{} {}'", condition.field, condition.op));
    condition.value = *value;
    if (auto compiled = compile_filter({condition}); !compiled) return std::unexpected(compiled.error());
    conditions.push_back(std::move(condition));
    if (scanner.done()) return conditions;
    std::string joiner = scanner.word();
    std::ranges::transform(joiner, joiner.begin(), [](char c) { return static_cast<char>(std::tolower(c)); });
    if (joiner != "and") return bad(fmt::format("expected 'and', got '{}'", joiner));
  }
}

Result<SqlFragment> field_sql(std::string_view field) {
  if (field == "version") return SqlFragment{"v.version", {}};
  if (field == "created_at") return SqlFragment{"v.created_at", {}};
  if (field == "flavor") return SqlFragment{"v.flavor", {}};
  for (std::string_view column : {"metrics", "params", "tags"}) {
    if (field.size() > column.size() + 1 && field.starts_with(column) && field[column.size()] == '.') {
      std::string_view key = field.substr(column.size() + 1);
      if (auto checked = check_key(key); !checked) return std::unexpected(checked.error());
      // The key is bound, never spliced; the quotes keep dots in a key from meaning nesting.
      return SqlFragment{fmt::format("json_extract(v.{}, ?)", column), {fmt::format("$.\"{}\"", key)}};
    }
  }
  return fail(Errc::invalid, fmt::format("unknown field '{}'", field), std::string(k_filter_hint));
}

Result<SqlFragment> compile_filter(const std::vector<Condition>& conditions) {
  SqlFragment out{"1", {}};
  for (const auto& condition : conditions) {
    auto field = field_sql(condition.field);
    if (!field) return std::unexpected(field.error());
    SqlValue value = condition.value;
    std::string left = field->sql;
    auto number = to_number(condition.value);
    if (condition.field == "version") {
      if (!number || *number != std::floor(*number))
        return fail(Errc::invalid, fmt::format("'{}': version is compared with a whole number", condition.str()));
      value = static_cast<std::int64_t>(*number);
    } else if (condition.field == "created_at") {
      auto time = parse_time(condition.value);
      if (!time) return std::unexpected(time.error());
      value = *time;
    } else if (condition.field.starts_with("metrics.")) {
      if (!number) return fail(Errc::invalid, fmt::format("'{}': a metric is compared with a number", condition.str()));
      value = *number;
    } else if (condition.field.starts_with("params.") && number) {
      // Params are stored as text; a numeric value compares them as numbers.
      left = fmt::format("CAST({} AS REAL)", left);
      value = *number;
    }
    out.sql += fmt::format(" AND {} {} ?", left, sql_op(condition.op));
    out.values.insert(out.values.end(), field->values.begin(), field->values.end());
    out.values.push_back(std::move(value));
  }
  return out;
}

}  // namespace mlctl::models
