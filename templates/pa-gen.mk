# Builds a dbt project with pa-gen and Ninja from a Makefile.
#
#   DBT_PROJECT_DIR := dbt            # default: .
#   include path/to/pa-gen/templates/pa-gen.mk
#   all: dbt
#
# `make dbt` writes build.ninja into the project (or PA_GEN_OUTPUT) and runs
# ninja there. The `+` hands Make's jobserver to Ninja: Ninja 1.13 (PyPI's
# `ninja`) then shares `make -jN` slots instead of adding its own.
PA_GEN ?= pa-gen
NINJA ?= ninja
DBT_PROJECT_DIR ?= .
PA_GEN_OUTPUT ?= $(DBT_PROJECT_DIR)/build.ninja
PA_GEN_FLAGS ?=
NINJA_FLAGS ?=

.PHONY: dbt dbt-clean
dbt:
	$(PA_GEN) --project-dir $(DBT_PROJECT_DIR) -o $(PA_GEN_OUTPUT) $(PA_GEN_FLAGS)
	+$(NINJA) -C $(dir $(PA_GEN_OUTPUT)) $(NINJA_FLAGS)

# Forgets what was built (stamps and pa-gen's state); the warehouse is left alone.
dbt-clean:
	rm -rf $(DBT_PROJECT_DIR)/.pa $(PA_GEN_OUTPUT) $(dir $(PA_GEN_OUTPUT)).pa-plan.json
