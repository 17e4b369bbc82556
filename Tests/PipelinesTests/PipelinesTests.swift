// Tests of the Pipelines module.
