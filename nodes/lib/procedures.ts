/**
 * The dashboard procedures of this Node-RED by node id, with the function id each one hosts, so a "call
 * procedure" node can name a procedure node of the same workspace instead of its function id (which is
 * a credential of the procedure node and may only be generated on its first deploy).
 */
export interface LocalProcedure {
  nodeId: string;
  accountId: string;
  name: string;
  functionId?: string;
  state: string;
}

const procedures = new Map<string, LocalProcedure>();

export function setProcedure(p: LocalProcedure): void {
  procedures.set(p.nodeId, p);
}

export function removeProcedure(nodeId: string, p: LocalProcedure): void {
  if (procedures.get(nodeId) === p) procedures.delete(nodeId);
}

export function procedureOf(nodeId: string): LocalProcedure | undefined {
  return procedures.get(nodeId);
}

export function listProcedures(): LocalProcedure[] {
  return [...procedures.values()];
}
