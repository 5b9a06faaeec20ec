/**
 * The two operators' custom resources, written down from their documented
 * API (no npm package carries their schemas): the RabbitMQ Cluster
 * Operator's `RabbitmqCluster` (rabbitmq.com/v1beta1, "API Reference" of
 * rabbitmq/cluster-operator) and CloudNativePG's `Cluster`
 * (postgresql.cnpg.io/v1, "API Reference" on cloudnative-pg.io). Only the
 * fields this project may use are here: the type check in
 * kubernetes-schemas.ts refuses any other field by name, so a typo never
 * reaches a cluster, and a field we start using is added here first, from
 * that reference. Shared Kubernetes types come from kubernetes-models.
 */
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IAffinity } from 'kubernetes-models/v1/Affinity';
import type { IResourceRequirements } from 'kubernetes-models/v1/ResourceRequirements';
import type { IToleration } from 'kubernetes-models/v1/Toleration';
import type { ITopologySpreadConstraint } from 'kubernetes-models/v1/TopologySpreadConstraint';
import type { IEnvVar } from 'kubernetes-models/v1/EnvVar';

type ObjectMeta = NonNullable<IDeployment['metadata']>;
type Quantity = string | number;
type SecretRef = { name: string };

export interface RabbitmqCluster {
  apiVersion: 'rabbitmq.com/v1beta1';
  kind: 'RabbitmqCluster';
  metadata: ObjectMeta;
  spec: {
    /** 1, 3 or 5 (the operator tests these). */
    replicas?: 1 | 3 | 5;
    image?: string;
    imagePullSecrets?: SecretRef[];
    service?: { type?: 'ClusterIP' | 'LoadBalancer' | 'NodePort'; annotations?: Record<string, string> };
    persistence?: { storageClassName?: string; storage?: Quantity };
    resources?: IResourceRequirements;
    affinity?: IAffinity;
    tolerations?: IToleration[];
    terminationGracePeriodSeconds?: number;
    rabbitmq?: {
      /** Beside the ones always on: rabbitmq_management, rabbitmq_prometheus, rabbitmq_peer_discovery_k8s. */
      additionalPlugins?: string[];
      /** rabbitmq.conf lines (at most 2,000 characters). */
      additionalConfig?: string;
      advancedConfig?: string;
      envConfig?: string;
    };
    tls?: { secretName?: string; caSecretName?: string; disableNonTLSListeners?: boolean };
    skipPostDeploySteps?: boolean;
  };
}

/** One entry of `.spec.managed.roles` (a PostgreSQL role the operator keeps as declared). */
export interface CnpgRole {
  name: string;
  ensure?: 'present' | 'absent';
  comment?: string;
  login?: boolean;
  superuser?: boolean;
  createdb?: boolean;
  createrole?: boolean;
  inherit?: boolean;
  replication?: boolean;
  bypassrls?: boolean;
  connectionLimit?: number;
  validUntil?: string;
  inRoles?: string[];
  passwordSecret?: SecretRef;
  disablePassword?: boolean;
}

export interface CnpgCluster {
  apiVersion: 'postgresql.cnpg.io/v1';
  kind: 'Cluster';
  metadata: ObjectMeta;
  spec: {
    instances: number;
    imageName?: string;
    description?: string;
    primaryUpdateStrategy?: 'unsupervised' | 'supervised';
    primaryUpdateMethod?: 'switchover' | 'restart';
    storage: { size?: Quantity; storageClass?: string; resizeInUseVolumes?: boolean };
    walStorage?: { size?: Quantity; storageClass?: string };
    bootstrap?: {
      initdb?: { database?: string; owner?: string; secret?: SecretRef; encoding?: string; localeCollate?: string; localeCType?: string; dataChecksums?: boolean };
    };
    managed?: { roles?: CnpgRole[] };
    postgresql?: { parameters?: Record<string, string>; pg_hba?: string[]; shared_preload_libraries?: string[] };
    superuserSecret?: SecretRef;
    enableSuperuserAccess?: boolean;
    enablePDB?: boolean;
    resources?: IResourceRequirements;
    monitoring?: { enablePodMonitor?: boolean };
    affinity?: {
      enablePodAntiAffinity?: boolean;
      topologyKey?: string;
      podAntiAffinityType?: 'preferred' | 'required';
      nodeSelector?: Record<string, string>;
      tolerations?: IToleration[];
    };
    topologySpreadConstraints?: ITopologySpreadConstraint[];
    env?: IEnvVar[];
    minSyncReplicas?: number;
    maxSyncReplicas?: number;
  };
}

/** apiVersion + kind -> the type above (by its exported name). */
export const OPERATOR_KINDS: Record<string, 'RabbitmqCluster' | 'CnpgCluster'> = {
  'rabbitmq.com/v1beta1 RabbitmqCluster': 'RabbitmqCluster',
  'postgresql.cnpg.io/v1 Cluster': 'CnpgCluster',
};
