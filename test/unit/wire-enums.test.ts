import assert from 'node:assert/strict';
import { RESULT_NAMES, USER_FEEDBACK_NAMES, openObdDefinition } from '../../protocol';

/*
 * The service results and user feedbacks a flow chooses from are written once, in protocol/wire.ts; they
 * are exactly the names of the Result and UserFeedback enums of the proto files.
 */

function enumNames(name: string): string[] {
  const e = openObdDefinition()[`openOBD.v1.${name}`] as unknown as { type: { value: Array<{ name: string }> } };
  return e.type.value.map((v) => v.name);
}

describe('wire: the enum names a flow chooses from', function () {
  it('RESULT_NAMES are the Result enum, in its order', function () {
    assert.deepEqual([...RESULT_NAMES], enumNames('Result'));
  });

  it('USER_FEEDBACK_NAMES are the UserFeedback enum, in its order', function () {
    assert.deepEqual([...USER_FEEDBACK_NAMES], enumNames('UserFeedback'));
  });
});
