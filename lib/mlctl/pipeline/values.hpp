#pragma once

#include <mlctl/core/error.hpp>

#include <cstdint>
#include <string_view>

namespace mlctl::pipeline {

// A duration such as 30s, 5m, 1h, 1h30m or 2d, in seconds. Units go from the largest to the
// smallest, each at most once; the total must be above zero.
Result<std::int64_t> parse_duration(std::string_view text);

// A five-field cron schedule (minute hour day-of-month month day-of-week), as Argo's
// CronWorkflow and KFP's recurring runs take it, or one of @hourly, @daily, @weekly, @monthly,
// @yearly, @annually, @midnight. The message names the field that is wrong.
Result<void> check_cron(std::string_view schedule);

// A whole number >= 0 (GPUs, retries); fails on signs, fractions and values above 1000000.
Result<int> parse_count(std::string_view text);

// A name usable as a param or output name: a letter or '_', then letters, digits, '_' or '-'.
Result<void> check_identifier(std::string_view name);

// An environment variable name: letters, digits and '_', not starting with a digit.
Result<void> check_env_name(std::string_view name);

}  // namespace mlctl::pipeline
