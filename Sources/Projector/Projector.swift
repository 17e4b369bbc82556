// Projector: the runtime where Kafka, pipelines and views meet.
