#include "tree.hpp"

#include <support/run.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

namespace mlctl::test {

namespace fs = std::filesystem;

std::map<std::string, std::string> describe_tree(const fs::path& root) {
  std::map<std::string, std::string> out;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    std::string relative = entry.path().lexically_relative(root).generic_string();
    struct stat info {};
    ::lstat(entry.path().c_str(), &info);
    if (S_ISLNK(info.st_mode)) {
      out[relative] = "link -> " + fs::read_symlink(entry.path()).string();
    } else if (S_ISDIR(info.st_mode)) {
      out[relative] = fmt::format("dir {:04o}", info.st_mode & 07777);
    } else {
      std::ifstream in(entry.path(), std::ios::binary);
      std::stringstream content;
      content << in.rdbuf();
      out[relative] = fmt::format("file {:04o} {}", info.st_mode & 07777, content.str());
    }
  }
  return out;
}

void make_model_tree(const fs::path& root) {
  fs::create_directories(root / "weights" / "layer0");
  fs::create_directories(root / "empty");
  auto write = [&](std::string_view relative, std::string_view content, fs::perms mode) {
    std::ofstream(root / relative, std::ios::binary) << content;
    fs::permissions(root / relative, mode);
  };
  write("model.json", "{\"layers\": 2}\n", fs::perms(0644));
  write("serve.sh", "#!/bin/sh\nexec python -m serve\n", fs::perms(0755));
  write("weights/layer0/w.bin", std::string("\0\1\2\3\xff binary\n", 14), fs::perms(0644));
  write(std::string("weights/") + std::string(120, 'n') + ".txt", "long name\n", fs::perms(0644));
  fs::create_symlink("weights/layer0/w.bin", root / "current.bin");
  fs::create_symlink("../model.json", root / "weights" / "config.json");
  fs::permissions(root / "weights", fs::perms(0755));
  fs::permissions(root / "weights" / "layer0", fs::perms(0755));
  fs::permissions(root / "empty", fs::perms(0755));
}

std::string sha256sum(const fs::path& file) {
  auto done = run_command({"sha256sum", file.string()}, file.parent_path());
  if (!done.ok() || done.out.size() < 64) throw std::runtime_error("sha256sum failed: " + done.err);
  return "sha256:" + done.out.substr(0, 64);
}

std::vector<std::string> list_folder(const fs::path& folder) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(folder)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace mlctl::test
