# Sources of the C self-test suites, shared by tests/c/CMakeLists.txt (host)
# and embedded_port/CMakeLists.txt (on-target runner).  A new suite is a new
# selftest_<name>.c here plus one X(<name>) line in selftests.h.
file(GLOB MFOTA_SELFTEST_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/selftest_*.c)
list(APPEND MFOTA_SELFTEST_SOURCES ${CMAKE_CURRENT_LIST_DIR}/selftests.c
     ${CMAKE_CURRENT_LIST_DIR}/fake_hal.c)
set(MFOTA_SELFTEST_INCLUDE_DIR ${CMAKE_CURRENT_LIST_DIR})
