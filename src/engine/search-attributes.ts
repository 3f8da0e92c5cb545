/** The job's Temporal search attributes (docs/API.md), as typed keys. Workflow-safe. */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const kindKey = defineSearchAttributeKey('ShardflowKind', SearchAttributeType.KEYWORD);
export const tenantKey = defineSearchAttributeKey('ShardflowTenant', SearchAttributeType.KEYWORD);
/** Work units of the job (rows, activities, patients), and those done as shards complete. */
export const rowsTotalKey = defineSearchAttributeKey('ShardflowRowsTotal', SearchAttributeType.INT);
export const rowsDoneKey = defineSearchAttributeKey('ShardflowRowsDone', SearchAttributeType.INT);

export const SEARCH_ATTRIBUTE_KEYS = [kindKey, tenantKey, rowsTotalKey, rowsDoneKey] as const;
