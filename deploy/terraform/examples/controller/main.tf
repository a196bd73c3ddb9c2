# The whole module in mode controller: `ecr-renew run` (two replicas with
# leader election) keeps the pull Secret in every namespace whose name
# starts with team- (now and later ones), except the sandboxes, adds it to
# each one's default ServiceAccount, with a ServiceMonitor and the alerts for
# a kube-prometheus-stack installed as release "monitoring". Terraform talks
# to the cluster with a token from aws_eks_cluster_auth: neither the AWS CLI
# nor kubectl is needed where it runs. The Prometheus operator's CRDs must
# exist before terraform plan.

provider "aws" {
  region = var.aws_region
}

data "aws_eks_cluster" "this" {
  name = var.cluster_name
}

data "aws_eks_cluster_auth" "this" {
  name = var.cluster_name
}

provider "kubernetes" {
  host                   = data.aws_eks_cluster.this.endpoint
  cluster_ca_certificate = base64decode(data.aws_eks_cluster.this.certificate_authority[0].data)
  token                  = data.aws_eks_cluster_auth.this.token
}

module "ecr_renew" {
  source = "../.."

  ecr_secret_enabled    = true
  mode                  = "controller"
  ecr_secret_namespace  = "runtime"
  ecr_secret_namespaces = ["team-*"]
  exclude_namespaces    = ["team-*-sandbox"]
  ecr_secret_name       = "ecr-registry-secret"
  ecr_create_namespace  = true
  ecr_repository_arns   = var.ecr_repository_arns

  cluster_name  = var.cluster_name
  oidc_provider = data.aws_eks_cluster.this.identity[0].oidc[0].issuer
  aws_region    = var.aws_region

  image_repository = var.image_repository
  image_tag        = var.image_tag

  # Pods that name no imagePullSecrets pull with the Secret too. heal_pods
  # would also delete the pods created before their account had it (rights:
  # delete on pods in every namespace).
  service_accounts = ["default"]
  # heal_pods      = true

  service_monitor_enabled = true
  prometheus_rule_enabled = true
  monitoring_labels = {
    release = "monitoring"
  }

  tags = {
    Team = "platform"
  }
}
