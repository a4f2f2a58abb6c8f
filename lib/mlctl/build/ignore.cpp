#include <mlctl/build/ignore.hpp>

namespace mlctl::build {

namespace {

// Matches a "[...]" class at the start of `pattern` against `c`; returns the class length, 0 if malformed.
size_t match_class(std::string_view pattern, char c, bool& matched) {
  size_t i = 1;
  bool negate = i < pattern.size() && (pattern[i] == '!' || pattern[i] == '^');
  if (negate) ++i;
  bool found = false;
  for (bool first = true; i < pattern.size() && (first || pattern[i] != ']'); first = false) {
    char low = pattern[i];
    if (low == '\\' && i + 1 < pattern.size()) low = pattern[++i];
    char high = low;
    if (i + 2 < pattern.size() && pattern[i + 1] == '-' && pattern[i + 2] != ']') {
      high = pattern[i + 2];
      i += 2;
    }
    found = found || (c >= low && c <= high);
    ++i;
  }
  if (i >= pattern.size()) return 0;
  matched = (found != negate) && c != '/';
  return i + 1;
}

}  // namespace

bool glob_match(std::string_view pattern, std::string_view path) {
  while (!pattern.empty()) {
    if (pattern.starts_with("**")) {
      std::string_view rest = pattern.substr(2);
      if (rest.empty()) return true;
      if (rest.front() == '/') {
        // "**/" is zero or more whole folders.
        rest.remove_prefix(1);
        for (size_t at = 0;; ++at) {
          if ((at == 0 || path[at - 1] == '/') && glob_match(rest, path.substr(at))) return true;
          if (at >= path.size()) return false;
        }
      }
      for (size_t at = 0; at <= path.size(); ++at)
        if (glob_match(rest, path.substr(at))) return true;
      return false;
    }
    char p = pattern.front();
    if (p == '*') {
      std::string_view rest = pattern.substr(1);
      for (size_t at = 0; at <= path.size(); ++at) {
        if (glob_match(rest, path.substr(at))) return true;
        if (at < path.size() && path[at] == '/') return false;
      }
      return false;
    }
    if (path.empty()) return false;
    if (p == '?') {
      if (path.front() == '/') return false;
      pattern.remove_prefix(1);
    } else if (p == '[') {
      bool matched = false;
      size_t length = match_class(pattern, path.front(), matched);
      if (length == 0) {  // a lone '[' is literal
        if (path.front() != '[') return false;
        length = 1;
      } else if (!matched) {
        return false;
      }
      pattern.remove_prefix(length);
    } else {
      if (p == '\\' && pattern.size() > 1) {
        pattern.remove_prefix(1);
        p = pattern.front();
      }
      if (p != path.front()) return false;
      pattern.remove_prefix(1);
    }
    path.remove_prefix(1);
  }
  return path.empty();
}

std::vector<IgnoreRule> parse_ignore(std::string_view text, std::string_view base) {
  std::vector<IgnoreRule> rules;
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string line(text.substr(0, end));
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    while (!line.empty() && line.back() == ' ' && !(line.size() > 1 && line[line.size() - 2] == '\\')) line.pop_back();
    if (line.empty() || line.front() == '#') continue;
    IgnoreRule rule{std::string(base), "", false, false, false};
    if (line.front() == '!') {
      rule.negated = true;
      line.erase(0, 1);
    } else if (line.starts_with("\\!") || line.starts_with("\\#")) {
      line.erase(0, 1);
    }
    if (!line.empty() && line.back() == '/') {
      rule.directory_only = true;
      line.pop_back();
    }
    rule.anchored = line.find('/') != std::string::npos;
    if (!line.empty() && line.front() == '/') line.erase(0, 1);
    if (line.empty()) continue;
    rule.pattern = std::move(line);
    rules.push_back(std::move(rule));
  }
  return rules;
}

void IgnoreRules::add(std::vector<IgnoreRule> rules) {
  rules_.insert(rules_.end(), std::make_move_iterator(rules.begin()), std::make_move_iterator(rules.end()));
}

bool IgnoreRules::ignored(std::string_view path, bool is_directory) const {
  bool result = false;
  for (const auto& rule : rules_) {
    if (rule.directory_only && !is_directory) continue;
    std::string_view relative = path;
    if (!rule.base.empty()) {
      if (!path.starts_with(rule.base) || path.size() <= rule.base.size() || path[rule.base.size()] != '/') continue;
      relative = path.substr(rule.base.size() + 1);
    }
    bool matches;
    if (rule.anchored) {
      matches = glob_match(rule.pattern, relative);
    } else {
      size_t slash = relative.rfind('/');
      matches = glob_match(rule.pattern, slash == std::string_view::npos ? relative : relative.substr(slash + 1));
    }
    if (matches) result = !rule.negated;
  }
  return result;
}

}  // namespace mlctl::build
