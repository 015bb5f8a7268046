// Placeholder until the local-cluster module lands: integration tests get their etcd cluster from here.
export default function setup(): void {}
