#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mlctl::build {

// Matches a gitignore-style glob against a '/'-separated path: '*' and '?' stay within one
// path segment, '[...]' is a character class, '**' spans segments ("a/**/b" also matches "a/b").
bool glob_match(std::string_view pattern, std::string_view path);

// One line of a .gitignore, .mlctlignore or image.exclude, with the gitignore meaning:
// "!" re-includes, a trailing "/" matches only folders, a pattern with a "/" before its end is
// anchored at `base` (the folder of the file it came from), otherwise it matches at any depth.
struct IgnoreRule {
  std::string base;     // "" for the context root, else "src/models"
  std::string pattern;  // without "!", the trailing "/" and a leading "/"
  bool negated = false;
  bool directory_only = false;
  bool anchored = false;
};

// Parses the lines of an ignore file; comments and blank lines are skipped.
std::vector<IgnoreRule> parse_ignore(std::string_view text, std::string_view base);

// Applies rules in order, the last match winning, as git does. `path` is relative to the root.
class IgnoreRules {
public:
  void add(std::vector<IgnoreRule> rules);
  bool ignored(std::string_view path, bool is_directory) const;

private:
  std::vector<IgnoreRule> rules_;
};

}  // namespace mlctl::build
