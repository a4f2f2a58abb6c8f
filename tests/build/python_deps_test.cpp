#include <mlctl/build/python_deps.hpp>

#include <support/run.hpp>
#include <support/temp_dir.hpp>

#include <cstdlib>
#include <fstream>

#include <gtest/gtest.h>

namespace mlctl::build {
namespace {

namespace fs = std::filesystem;

// Debian's pip (with setuptools and wheel) through /usr/bin/python3: offline, as in CI.
const std::vector<std::string> k_pip = {"/usr/bin/python3", "-m", "pip"};

class PythonDepsTest : public ::testing::Test {
protected:
  // One small pure-Python wheel, built once for the suite and served from a local folder.
  static void SetUpTestSuite() {
    wheels_ = new test::TempDir();
    wheels_->write("src/pyproject.toml", "[build-system]\nrequires = [\"setuptools\"]\n"
                                         "build-backend = \"setuptools.build_meta\"\n");
    wheels_->write("src/setup.cfg", "[metadata]\nname = mlctl-demo-dep\nversion = 1.0\n\n[options]\n"
                                    "packages = mlctl_demo_dep\n");
    wheels_->write("src/mlctl_demo_dep/__init__.py", "VALUE = 42\n");
    auto built = test::run_command({"/usr/bin/python3", "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                                    "--no-index", "-w", (*wheels_ / "wheels").string(), "./src"},
                                   wheels_->path());
    ASSERT_EQ(built.exit_code, 0) << built.err;
  }
  static void TearDownTestSuite() { delete wheels_; }

  void SetUp() override {
    ::setenv("PIP_FIND_LINKS", (*wheels_ / "wheels").c_str(), 1);
    ::setenv("PIP_NO_INDEX", "1", 1);
    project_.write("requirements.txt", "mlctl-demo-dep==1.0\n");
  }
  void TearDown() override {
    ::unsetenv("PIP_FIND_LINKS");
    ::unsetenv("PIP_NO_INDEX");
  }

  PythonDepsOptions options(std::vector<std::string> pip = k_pip) {
    return {project_ / "requirements.txt", {"3.11", pip_platforms("amd64")}, cache_.path(), std::move(pip)};
  }

  static test::TempDir* wheels_;
  test::TempDir project_;
  test::TempDir cache_;
};

test::TempDir* PythonDepsTest::wheels_ = nullptr;

TEST(PipPlatformsTest, MapsOciArchitectures) {
  EXPECT_EQ(pip_platforms("amd64"),
            (std::vector<std::string>{"manylinux_2_28_x86_64", "manylinux2014_x86_64", "linux_x86_64"}));
  EXPECT_EQ(pip_platforms("arm64").front(), "manylinux_2_28_aarch64");
  EXPECT_TRUE(pip_platforms("riscv64").empty());
}

TEST_F(PythonDepsTest, InstallsWheelsForTheTargetWithoutBytecode) {
  auto deps = install_python_deps(options(), core::silent_reporter());
  ASSERT_TRUE(deps) << deps.error().message();
  EXPECT_FALSE(deps->from_cache);
  EXPECT_EQ(deps->dir, cache_ / ("python-deps/" + deps->key));
  std::ifstream module(deps->dir / "mlctl_demo_dep/__init__.py");
  std::string content((std::istreambuf_iterator<char>(module)), {});
  EXPECT_EQ(content, "VALUE = 42\n");
  EXPECT_TRUE(fs::is_directory(deps->dir / "mlctl_demo_dep-1.0.dist-info"));
  for (const auto& entry : fs::recursive_directory_iterator(deps->dir))
    EXPECT_NE(entry.path().extension(), ".pyc") << entry.path();
  auto imported = test::run_command({"/usr/bin/python3", "-c", "import mlctl_demo_dep; print(mlctl_demo_dep.VALUE)"},
                                    project_.path(), {{"PYTHONPATH", deps->dir.string()}});
  EXPECT_EQ(imported.out, "42\n");
}

TEST_F(PythonDepsTest, SecondInstallComesFromTheCacheWithoutRunningPip) {
  auto first = install_python_deps(options(), core::silent_reporter());
  ASSERT_TRUE(first) << first.error().message();
  // The pip command is part of the key, so keep it and make pip unrunnable instead.
  ::setenv("PIP_FIND_LINKS", "/nonexistent", 1);
  auto second = install_python_deps(options(), core::silent_reporter());
  ASSERT_TRUE(second) << second.error().message();
  EXPECT_TRUE(second->from_cache);
  EXPECT_EQ(second->dir, first->dir);

  project_.write("requirements.txt", "mlctl-demo-dep>=1.0\n");
  auto changed = install_python_deps(options(), core::silent_reporter());
  ASSERT_FALSE(changed) << "a changed requirements file is a new key, so pip runs (and fails here)";
}

TEST_F(PythonDepsTest, PlatformAndPythonVersionArePartOfTheKey) {
  auto amd64 = install_python_deps(options(), core::silent_reporter());
  auto arm = options();
  arm.target.platforms = pip_platforms("arm64");
  auto arm64 = install_python_deps(arm, core::silent_reporter());
  auto py312 = options();
  py312.target.python_version = "3.12";
  auto python312 = install_python_deps(py312, core::silent_reporter());
  ASSERT_TRUE(amd64 && arm64 && python312);
  EXPECT_NE(amd64->key, arm64->key);
  EXPECT_NE(amd64->key, python312->key);
}

TEST_F(PythonDepsTest, MissingPackageFailsClearlyAndLeavesNothingInTheCache) {
  project_.write("requirements.txt", "no-such-package==9.9\n");
  auto deps = install_python_deps(options(), core::silent_reporter());
  ASSERT_FALSE(deps);
  EXPECT_EQ(deps.error().code(), Errc::failed);
  const std::string& message = deps.error().message();
  EXPECT_TRUE(message.starts_with("installing the Python dependencies: pip exited with 1:\n")) << message;
  EXPECT_NE(message.find("No matching distribution found for no-such-package==9.9"), std::string::npos) << message;
  EXPECT_TRUE(fs::is_empty(cache_ / "python-deps"));
}

// Real pip masks passwords itself; a stand-in that prints the raw index URL, as a proxy or an
// older pip might, shows that mlctl's own redaction holds.
TEST_F(PythonDepsTest, IndexPasswordNeverReachesTheError) {
  ::setenv("PIP_INDEX_URL", "http://ci-user:s3cr3t-pw@127.0.0.1:9/simple", 1);
  auto failed = install_python_deps(
      options({"sh", "-c", "echo \"ERROR: cannot reach $PIP_INDEX_URL\" >&2; exit 1", "pip"}),
      core::silent_reporter());
  ::unsetenv("PIP_INDEX_URL");
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().message(),
            "installing the Python dependencies: pip exited with 1:\nERROR: cannot reach http://127.0.0.1:9/simple");
}

TEST_F(PythonDepsTest, MissingRequirementsFileIsNotFound) {
  auto missing = options();
  missing.requirements = project_ / "nope.txt";
  auto deps = install_python_deps(missing, core::silent_reporter());
  ASSERT_FALSE(deps);
  EXPECT_EQ(deps.error().code(), Errc::not_found);
  EXPECT_EQ(deps.error().message(),
            "reading the Python requirements: " + (project_ / "nope.txt").string() + ": no such file");
}

}  // namespace
}  // namespace mlctl::build
