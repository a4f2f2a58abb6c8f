#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace mlctl::test {

// A fresh folder under $TMPDIR, removed with everything in it when the object goes away.
class TempDir {
public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(std::string_view relative) const { return path_ / relative; }

  // Writes `content` to `relative` (parents created) and returns the full path.
  std::filesystem::path write(std::string_view relative, std::string_view content) const;
  std::string read(std::string_view relative) const;

private:
  std::filesystem::path path_;
};

}  // namespace mlctl::test
