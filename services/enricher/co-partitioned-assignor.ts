// Partition assignment for the enricher's consumer group: co-partitioned inputs.

import { AssignerProtocol, type PartitionAssigner } from 'kafkajs';

/**
 * Gives each member the same partition numbers of every subscribed topic, so a unit's raw
 * events and exposures (equal partition counts, keyed alike) meet in one task. kafkajs's
 * round-robin assigner does not guarantee that.
 */
export const coPartitionedAssigner: PartitionAssigner = ({ cluster }) => ({
  name: 'XpCoPartitioned',
  version: 1,
  async assign({ members, topics }) {
    const sorted = members.map((m) => m.memberId).sort();
    const counts = topics.map((t) => cluster.findTopicPartitionMetadata(t).length);
    const partitions = Math.max(0, ...counts);
    const assignment = new Map<string, Record<string, number[]>>(
      sorted.map((id) => [id, Object.fromEntries(topics.map((t) => [t, [] as number[]]))]),
    );
    for (let p = 0; p < partitions; p++) {
      const member = assignment.get(sorted[p % sorted.length]!)!;
      topics.forEach((t, i) => {
        if (p < counts[i]!) member[t]!.push(p);
      });
    }
    return sorted.map((memberId) => ({
      memberId,
      memberAssignment: AssignerProtocol.MemberAssignment.encode({
        version: 1,
        assignment: assignment.get(memberId)!,
        userData: Buffer.alloc(0),
      }),
    }));
  },
  protocol({ topics }) {
    return {
      name: 'XpCoPartitioned',
      metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: Buffer.alloc(0) }),
    };
  },
});
