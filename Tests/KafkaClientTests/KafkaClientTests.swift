// Tests of the KafkaClient module.
