#!/usr/bin/python3
"""A KEDA stand-in that is not grpc-js: Debian's python3-grpcio calling the ExternalScaler the way
KEDA's Go client does (same wire messages, built here from a hand-written descriptor so no
generated code or grpcio-tools is needed).

Usage: keda_client.py ADDRESS NAMESPACE NAME MODEL_ID STREAM_SECONDS
Prints one JSON object per line: spec, metrics, active, stream_open, push (per message), stream_end.
"""
import json
import sys
import threading
import time

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

F = descriptor_pb2.FieldDescriptorProto


def build_messages():
    fd = descriptor_pb2.FileDescriptorProto(name="externalscaler.proto", package="externalscaler", syntax="proto3")

    def msg(name, fields, nested=None):
        m = fd.message_type.add(name=name)
        for fname, number, ftype, label, type_name in fields:
            f = m.field.add(name=fname, number=number, type=ftype, label=label, json_name=fname)
            if type_name:
                f.type_name = type_name
        if nested:
            nested(m)
        return m

    opt, rep = F.LABEL_OPTIONAL, F.LABEL_REPEATED

    def map_entry(m):
        e = m.nested_type.add(name="ScalerMetadataEntry")
        e.field.add(name="key", number=1, type=F.TYPE_STRING, label=opt, json_name="key")
        e.field.add(name="value", number=2, type=F.TYPE_STRING, label=opt, json_name="value")
        e.options.map_entry = True

    msg("ScaledObjectRef", [
        ("name", 1, F.TYPE_STRING, opt, None),
        ("namespace", 2, F.TYPE_STRING, opt, None),
        ("scalerMetadata", 3, F.TYPE_MESSAGE, rep, ".externalscaler.ScaledObjectRef.ScalerMetadataEntry"),
    ], map_entry)
    msg("IsActiveResponse", [("result", 1, F.TYPE_BOOL, opt, None)])
    msg("GetMetricSpecResponse", [("metricSpecs", 1, F.TYPE_MESSAGE, rep, ".externalscaler.MetricSpec")])
    msg("MetricSpec", [
        ("metricName", 1, F.TYPE_STRING, opt, None),
        ("targetSize", 2, F.TYPE_INT64, opt, None),
        ("targetSizeFloat", 3, F.TYPE_DOUBLE, opt, None),
    ])
    msg("GetMetricsRequest", [
        ("scaledObjectRef", 1, F.TYPE_MESSAGE, opt, ".externalscaler.ScaledObjectRef"),
        ("metricName", 2, F.TYPE_STRING, opt, None),
    ])
    msg("GetMetricsResponse", [("metricValues", 1, F.TYPE_MESSAGE, rep, ".externalscaler.MetricValue")])
    msg("MetricValue", [
        ("metricName", 1, F.TYPE_STRING, opt, None),
        ("metricValue", 2, F.TYPE_INT64, opt, None),
        ("metricValueFloat", 3, F.TYPE_DOUBLE, opt, None),
    ])
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fd)
    out = {}
    for name in ["ScaledObjectRef", "IsActiveResponse", "GetMetricSpecResponse", "GetMetricsRequest", "GetMetricsResponse"]:
        desc = pool.FindMessageTypeByName("externalscaler." + name)
        if hasattr(message_factory, "GetMessageClass"):
            out[name] = message_factory.GetMessageClass(desc)
        else:
            out[name] = message_factory.MessageFactory(pool).GetPrototype(desc)
    return out


def emit(obj):
    print(json.dumps(obj), flush=True)


def main():
    address, namespace, name, model_id, stream_seconds = sys.argv[1:6]
    M = build_messages()
    channel = grpc.insecure_channel(address)
    svc = "/externalscaler.ExternalScaler/"

    def unary(method, req_cls, res_cls):
        return channel.unary_unary(svc + method, request_serializer=req_cls.SerializeToString, response_deserializer=res_cls.FromString)

    ref = M["ScaledObjectRef"](name=name, namespace=namespace)
    ref.scalerMetadata["scalerAddress"] = address
    ref.scalerMetadata["modelID"] = model_id
    ref.scalerMetadata["accelerator"] = "H100"

    spec = unary("GetMetricSpec", M["ScaledObjectRef"], M["GetMetricSpecResponse"])(ref, timeout=3)
    s = spec.metricSpecs[0]
    emit({"kind": "spec", "metricName": s.metricName, "targetSize": s.targetSize, "targetSizeFloat": s.targetSizeFloat})

    # KEDA names the HPA metric "s<index>-<name>" and strips the prefix before GetMetrics.
    hpa_metric = "s0-" + s.metricName
    stripped = hpa_metric.split("-", 1)[1]
    res = unary("GetMetrics", M["GetMetricsRequest"], M["GetMetricsResponse"])(
        M["GetMetricsRequest"](scaledObjectRef=ref, metricName=stripped), timeout=3)
    v = res.metricValues[0]
    # KEDA >= 2.17 reads the float and falls back to the int when the float is 0.
    value = v.metricValueFloat if v.metricValueFloat != 0 else float(v.metricValue)
    emit({"kind": "metrics", "sentMetricName": stripped, "metricName": v.metricName, "metricValue": v.metricValue,
          "metricValueFloat": v.metricValueFloat, "kedaValue": value})

    active = unary("IsActive", M["ScaledObjectRef"], M["IsActiveResponse"])(ref, timeout=3)
    emit({"kind": "active", "result": active.result})

    stream = channel.unary_stream(svc + "StreamIsActive", request_serializer=M["ScaledObjectRef"].SerializeToString,
                                  response_deserializer=M["IsActiveResponse"].FromString)(ref)
    emit({"kind": "stream_open"})
    pushes = []

    def reader():
        try:
            for msg in stream:
                pushes.append(msg.result)
                emit({"kind": "push", "result": msg.result, "t": time.time()})
        except grpc.RpcError as e:
            emit({"kind": "stream_status", "code": e.code().name})

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    time.sleep(float(stream_seconds))
    stream.cancel()
    t.join(2)
    emit({"kind": "stream_end", "pushes": pushes})
    channel.close()


if __name__ == "__main__":
    main()
