#!/usr/bin/env bash
# Checks the man pages: groff prints no warning for any page, every command in `mlctl --help`
# has a page (mlctl-<command>.1, or an entry in mlctl.1), and every option of every command and
# subcommand appears in the page that documents it.
# usage: check_man.sh MLCTL_BINARY MAN_DIR
set -uo pipefail
mlctl=$1 man=$2
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

for page in "$man"/*.[15]; do
  warnings=$(groff -man -ww -z "$page" 2>&1)
  [[ -z "$warnings" ]] || fail "$(basename "$page"): groff warnings: $warnings"
done

# The man source escapes '-' as '\-'; compare on the unescaped text. (Read whole, not piped
# into grep -q, whose early exit would kill sed with SIGPIPE and fail the pipeline.)
documents() { local text; text=$(sed 's/\\-/-/g' "$1"); [[ "$text" == *"$2"* ]]; }

commands=$("$mlctl" --help | sed -n '/^Subcommands:/,/^$/p' | awk 'NR > 1 && NF { print $1 }')
[[ -n "$commands" ]] || fail "no commands found in mlctl --help"
for command in $commands; do
  page="$man/mlctl-$command.1"
  if [[ ! -f "$page" ]]; then
    page="$man/mlctl.1"
    grep -q "^\.BI\? \"\?$command" "$page" || { fail "$command: no mlctl-$command.1 and no entry in mlctl.1"; continue; }
  fi
  # The command's own options and those of each of its subcommands (mlctl model register ...).
  subcommands=$("$mlctl" "$command" --help | sed -n '/^Subcommands:/,/^$/p' | awk 'NR > 1 && NF { print $1 }')
  for path in "$command" $(for sub in $subcommands; do echo "$command/$sub"; done); do
    for option in $("$mlctl" ${path//\// } --help | grep -o -- '--[a-z][a-z-]*' | grep -vx -- --help | sort -u); do
      documents "$page" "$option" || fail "${path//\// }: option $option is not documented in $(basename "$page")"
    done
  done
done
for option in $("$mlctl" --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
  documents "$man/mlctl.1" "$option" || fail "global option $option is not documented in mlctl.1"
done

echo "checked $(ls "$man"/*.[15] | wc -l) pages and $(echo $commands | wc -w) commands: $failures problem(s)"
exit $((failures > 0))
