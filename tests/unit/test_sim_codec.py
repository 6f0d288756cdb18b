"""The sim agent's own BER codec agrees with pyasn1's, byte for byte."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from pyasn1.codec.ber import decoder, encoder
from pyasn1.type import univ
from pysnmp.proto import api
from pysnmp.proto.rfc1902 import (
    Counter32,
    Counter64,
    Gauge32,
    Integer32,
    IpAddress,
    OctetString,
    TimeTicks,
)

from nmsquota.sim.agent import decode_request, encode_oid, encode_value

oids = st.tuples(st.integers(0, 2), st.integers(0, 39)).flatmap(
    lambda head: st.lists(st.integers(0, 2**32 - 1), max_size=12).map(lambda rest: (*head, *rest))
)


@given(oids)
def test_oids_encode_as_pyasn1_does(oid: tuple[int, ...]) -> None:
    assert encode_oid(oid) == encoder.encode(univ.ObjectIdentifier(oid))


@given(st.integers(0, 2**64 - 1), st.integers(-(2**31), 2**31 - 1), st.binary(max_size=300))
def test_values_encode_as_pyasn1_does(big: int, signed: int, octets: bytes) -> None:
    for value in (Counter64(big), Counter32(big % 2**32), Gauge32(big % 2**32),
                  TimeTicks(big % 2**32), Integer32(signed), OctetString(octets),
                  IpAddress(octets[:4].ljust(4, b"\0")), univ.Null("")):  # fmt: skip
        assert encode_value(value) == encoder.encode(value), value


def test_a_pysnmp_getbulk_request_decodes() -> None:
    module = api.PROTOCOL_MODULES[api.SNMP_VERSION_2C]
    pdu = module.GetBulkRequestPDU()
    module.apiBulkPDU.set_defaults(pdu)
    module.apiBulkPDU.set_non_repeaters(pdu, 1)
    module.apiBulkPDU.set_max_repetitions(pdu, 25)
    module.apiBulkPDU.set_varbinds(pdu, [((1, 3, 6, 1, 2, 1, 1, 3), module.Null("")),
                                         ((2, 999, 7, 300), module.Null(""))])  # fmt: skip
    message = module.Message()
    module.apiMessage.set_defaults(message)
    module.apiMessage.set_community(message, "s3cret")
    module.apiMessage.set_pdu(message, pdu)
    data = encoder.encode(message)
    version, community, kind, request_id, second, third, asked = decode_request(data)
    assert (version, community, kind, second, third) == (1, b"s3cret", 0xA5, 1, 25)
    assert asked == [(1, 3, 6, 1, 2, 1, 1, 3), (2, 999, 7, 300)]
    decoded, _ = decoder.decode(data, asn1Spec=module.Message())
    wanted = int(module.apiPDU.get_request_id(module.apiMessage.get_pdu(decoded)))
    assert int.from_bytes(request_id, "big", signed=True) == wanted


def test_the_worlds_values_encode_as_the_pysnmp_values_of_their_columns() -> None:
    # The World serves its values already encoded (no pysnmp object per value a cycle):
    # byte for byte what pyasn1 makes of each column's pysnmp type.
    from nmsquota.commands.simulate import population
    from nmsquota.sim.agent import TableAgent
    from nmsquota.sim.demo import START
    from nmsquota.sim.world import _COLUMNS, DAY, World

    types = {"uptime": TimeTicks, "lastChange": TimeTicks, "ifNumber": Integer32,
             "ifName": OctetString, "ifDescr": OctetString, "ifOperStatus": Integer32,
             "ifSpeed": Gauge32, "ifHighSpeed": Gauge32, "ifInOctets": Counter32,
             "ifOutOctets": Counter32, "ifHCInOctets": Counter64,
             "ifHCOutOctets": Counter64}  # fmt: skip
    column_of = {oid: name for name, oid in _COLUMNS.items()}
    world = World(START, 3, seed=2001, population=population(20))
    world.advance(START + 2 * DAY + 20 * 3600)
    plain, typed = world.objects(typed=False), world.objects(typed=True)
    assert plain.keys() == typed.keys() and len(plain) > 3
    assert max(v for v in plain.values() if isinstance(v, int)) > 2**24  # counters, not 0s
    for oid, value in plain.items():
        kind = types[column_of.get(oid) or column_of[oid[:-1]]]
        expected = encoder.encode(kind(value))
        assert typed[oid] == expected == encode_value(typed[oid]), (oid, value)
    # v1 cannot carry a Counter64: the agent still knows one given encoded.
    agent = TableAgent()
    agent.set(typed)
    hc = next(oid for oid in typed if column_of.get(oid[:-1]) == "ifHCInOctets")
    assert agent._get(hc, v1=True) is None and agent._get(hc, v1=False) is not None


def test_a_reply_after_set_carries_the_new_values_and_reuses_the_unchanged_ones() -> None:
    # The simulator sets a new table every cycle and most of it is as it was: a varbind
    # encoded for a value is kept for the next table that has the same value, never for
    # another value.
    from nmsquota.sim.agent import GET, TableAgent, ber

    module = api.PROTOCOL_MODULES[api.SNMP_VERSION_2C]
    name, octets = (1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 1, 7), (1, 3, 6, 1, 2, 1, 2, 2, 1, 16, 7)

    def get() -> dict[tuple[int, ...], object]:
        pdu = module.GetRequestPDU()
        module.apiPDU.set_defaults(pdu)
        module.apiPDU.set_varbinds(pdu, [(name, module.Null("")), (octets, module.Null(""))])
        message = module.Message()
        module.apiMessage.set_defaults(message)
        module.apiMessage.set_community(message, "public")
        module.apiMessage.set_pdu(message, pdu)
        reply = agent._reply(encoder.encode(message))
        assert reply is not None and decode_request(reply)[2] != GET
        decoded, _ = decoder.decode(reply, asn1Spec=module.Message())
        varbinds = module.apiPDU.get_varbinds(module.apiMessage.get_pdu(decoded))
        return {tuple(oid): value for oid, value in varbinds}

    agent = TableAgent()
    agent.set({name: ber(0x04, b"<pppoe-alice>"), octets: ber(0x41, 5)})
    assert get() == {name: OctetString(b"<pppoe-alice>"), octets: Counter32(5)}
    kept = agent._kept[name][1]
    agent.set({name: ber(0x04, b"<pppoe-alice>"), octets: ber(0x41, 6)})
    assert get() == {name: OctetString(b"<pppoe-alice>"), octets: Counter32(6)}
    assert agent._kept[name][1] is kept  # the same value: its varbind reused
    agent.set({name: ber(0x04, b"<pppoe-bob>"), octets: ber(0x41, 6)})
    assert get()[name] == OctetString(b"<pppoe-bob>")
