// Fuzzes the mlctl.yaml reader: core::parse_project, the text-level half of core::load_project
// (which adds only reading the file and checking that the files it names exist).
#include <mlctl/core/config.hpp>

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace {

// A fixed environment, so ${VAR} expansion is exercised the same way on every machine.
std::optional<std::string> fake_env(const std::string& name) {
  static const std::map<std::string, std::string> k_env = {
      {"MLCTL_REGISTRY", "registry.example.com:5000"}, {"HOME", "/home/fuzz"}, {"EMPTY", ""}};
  auto it = k_env.find(name);
  if (it == k_env.end()) return std::nullopt;
  return it->second;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  mlctl::core::ProjectCheck checked = mlctl::core::parse_project(text, "mlctl.yaml", fake_env);
  for (const auto& problem : checked.problems) (void)problem.to_string();
  return 0;
}
