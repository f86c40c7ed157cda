# kubeflow-charts: the Pipelines profile controller for an external S3 object store
# (feature objectStore of the pipelines chart; upstream's controller manages the bundled store).
# For every namespace with pipelines enabled it writes what upstream's writes, pointed at your
# store: the object store Secret (your keys), kfp-launcher (pipeline root and S3 provider),
# Argo's namespaced artifact repository and the metadata gRPC endpoint.
import json
import os
from http.server import BaseHTTPRequestHandler, HTTPServer

HOST = os.environ['KFC_S3_HOST']
PORT = os.environ['KFC_S3_PORT']
BUCKET = os.environ['KFC_S3_BUCKET']
REGION = os.environ.get('KFC_S3_REGION', 'us-east-1')
SECURE = os.environ.get('KFC_S3_SECURE', 'true').lower() == 'true'
SECRET = 'mlpipeline-minio-artifact'
CLUSTER_DOMAIN = os.environ.get('CLUSTER_DOMAIN', '.svc.cluster.local')


def endpoint():
    return HOST if PORT in ('', '443' if SECURE else '80') else '%s:%s' % (HOST, PORT)


def desired(namespace):
    prefix = 'private-artifacts/%s' % namespace
    providers = {'s3': {'default': {'endpoint': endpoint(), 'region': REGION, 'disableSSL': not SECURE, 'forcePathStyle': True,
                                    'credentials': {'fromEnv': False, 'secretRef': {'secretName': SECRET, 'accessKeyKey': 'accesskey', 'secretKeyKey': 'secretkey'}}}}}
    repository = {'archiveLogs': True, 's3': {'endpoint': endpoint(), 'bucket': BUCKET, 'region': REGION, 'insecure': not SECURE,
                                              'keyFormat': prefix + '/{{workflow.name}}/{{workflow.creationTimestamp.Y}}/{{workflow.creationTimestamp.m}}/{{workflow.creationTimestamp.d}}/{{pod.name}}',
                                              'accessKeySecret': {'name': SECRET, 'key': 'accesskey'}, 'secretKeySecret': {'name': SECRET, 'key': 'secretkey'}}}
    return [
        {'apiVersion': 'v1', 'kind': 'Secret', 'metadata': {'name': SECRET, 'namespace': namespace},
         'stringData': {'accesskey': os.environ['AWS_ACCESS_KEY_ID'], 'secretkey': os.environ['AWS_SECRET_ACCESS_KEY']}},
        {'apiVersion': 'v1', 'kind': 'ConfigMap', 'metadata': {'name': 'kfp-launcher', 'namespace': namespace},
         'data': {'defaultPipelineRoot': 's3://%s/%s/v2/artifacts' % (BUCKET, prefix), 'providers': json.dumps(providers)}},
        {'apiVersion': 'v1', 'kind': 'ConfigMap', 'metadata': {'name': 'metadata-grpc-configmap', 'namespace': namespace},
         'data': {'METADATA_GRPC_SERVICE_HOST': 'metadata-grpc-service.kubeflow', 'METADATA_GRPC_SERVICE_PORT': '8080'}},
        {'apiVersion': 'v1', 'kind': 'ConfigMap', 'metadata': {'name': 'artifact-repositories', 'namespace': namespace,
                                                                 'annotations': {'workflows.argoproj.io/default-artifact-repository': 'default-namespaced'}},
         'data': {'default-namespaced': json.dumps(repository)}},
    ]


class Controller(BaseHTTPRequestHandler):
    def do_POST(self):
        observed = json.loads(self.rfile.read(int(self.headers.get('content-length'))))
        namespace = observed['object']['metadata']['name']
        body = {'status': {'kubeflow-pipelines-ready': 'True'}, 'attachments': desired(namespace)}
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        self.end_headers()
        self.wfile.write(json.dumps(body).encode())


if __name__ == '__main__':
    HTTPServer(('', int(os.environ.get('CONTROLLER_PORT', '8080'))), Controller).serve_forever()
