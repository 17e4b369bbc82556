// KafkaClient: a batch-native Swift wrapper over librdkafka. The only importer of CRdKafka.
