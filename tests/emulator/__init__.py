"""Local Azure Resource Manager emulator (test and demo infrastructure). See README.md."""
