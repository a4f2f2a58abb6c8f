#include <support/run.hpp>
#include <support/temp_dir.hpp>

#include <gtest/gtest.h>

namespace mlctl::test {
namespace {

class CompletionTest : public ::testing::Test {
protected:
  std::string script(const std::string& shell) {
    auto run = run_mlctl({"completion", shell}, dir_.path());
    EXPECT_EQ(run.exit_code, 0) << run.err;
    dir_.write("completion." + shell, run.out);
    return (dir_ / ("completion." + shell)).string();
  }

  // What bash offers for the words typed so far (the last one is being completed).
  std::string bash_complete(const std::string& line) {
    std::string file = script("bash");
    std::string program = "source " + file + "; COMP_WORDS=(" + line + "); COMP_CWORD=$((${#COMP_WORDS[@]} - 1));"
                          " [[ \"" + line + "\" == *' ' ]] && COMP_WORDS+=('') && COMP_CWORD=$((COMP_CWORD + 1));"
                          " _mlctl; printf '%s\\n' \"${COMPREPLY[@]}\"";
    return run_command({"bash", "-c", program}, dir_.path()).out;
  }

  TempDir dir_;
};

TEST_F(CompletionTest, ScriptsParseInTheirShells) {
  for (std::string shell : {"bash", "zsh", "fish"}) {
    auto check = run_command({shell, "-n", script(shell)}, dir_.path());
    EXPECT_EQ(check.exit_code, 0) << shell << ": " << check.err;
    EXPECT_EQ(check.err, "") << shell;
  }
}

TEST_F(CompletionTest, BashCompletesCommandsOptionsAndValues) {
  EXPECT_EQ(bash_complete("mlctl va"), "validate\n");
  EXPECT_EQ(bash_complete("mlctl ver"), "version\n");
  EXPECT_EQ(bash_complete("mlctl completion "), "bash\nzsh\nfish\n");
  EXPECT_EQ(bash_complete("mlctl -o "), "text\njson\n");
  EXPECT_EQ(bash_complete("mlctl init --template "), "generic\nsklearn\n");
  EXPECT_EQ(bash_complete("mlctl init --f"), "--force\n");
  EXPECT_EQ(bash_complete("mlctl init --progress p"), "plain\n");
  EXPECT_EQ(bash_complete("mlctl -C /tmp init --t"), "--template\n");
}

TEST_F(CompletionTest, FishCompletesCommandsAndValues) {
  std::string file = script("fish");
  auto complete = [&](const std::string& line) {
    return run_command({"fish", "--no-config", "-c", "source " + file + "; complete -C '" + line + "'"}, dir_.path()).out;
  };
  EXPECT_EQ(complete("mlctl val"), "validate\tCheck mlctl.yaml and the files it names\n");
  EXPECT_EQ(complete("mlctl completion z"), "zsh\n");
  EXPECT_EQ(complete("mlctl --output j"), "json\tOutput format: text, or json (one JSON document on stdout)\n");
}

TEST_F(CompletionTest, ZshScriptDefinesTheCompletionFunction) {
  std::string file = script("zsh");
  auto run = run_command({"zsh", "-f", "-c", "autoload -U compinit && compinit -u -D; source " + file +
                                                 "; print -r -- ${_comps[mlctl]}"},
                         dir_.path());
  EXPECT_EQ(run.out, "_mlctl\n") << run.err;
}

}  // namespace
}  // namespace mlctl::test
