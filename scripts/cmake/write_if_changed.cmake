# write_if_changed(FILE CONTENT): writes FILE only when its content differs, so that a
# regenerated source with the same content does not make everything that uses it rebuild.
function(write_if_changed file content)
  if(EXISTS "${file}")
    file(READ "${file}" previous)
    if(previous STREQUAL content)
      return()
    endif()
  endif()
  file(WRITE "${file}" "${content}")
endfunction()
