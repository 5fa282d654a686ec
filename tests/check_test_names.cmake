# Fails when a Catch test name holds ';': CTest's test discovery splits
# names there, registers a broken name that matches no test case, and so
# counts a test that never ran as passed. Run by CTest (meta.*).
file(GLOB_RECURSE sources "${ROOT}/*_test.cpp")
set(bad "")
foreach(f IN LISTS sources)
  string(FIND "${f}" "${ROOT}/build" in_build)
  if(in_build EQUAL 0)
    continue()
  endif()
  file(STRINGS "${f}" lines REGEX "TEST_CASE\\(\"[^\"]*;")
  foreach(line IN LISTS lines)
    string(APPEND bad "\n  ${f}: ${line}")
  endforeach()
endforeach()
if(bad)
  message(FATAL_ERROR "test names with ';' (CTest would never run them):${bad}")
endif()
message(STATUS "no test name holds ';' (${CMAKE_CURRENT_LIST_FILE})")
