# language: fr
Fonctionnalité: Échanges de dossiers par archives sur le serveur de dépôt de l'ASP
  Au-delà de 20 Mo par transaction, ou quand le projet en convient, l'ASP dépose des archives (zip, tar,
  tar.gz) sur son serveur de dépôt (SFTP ou FTPS), dans le dossier entrant/ du titulaire. Pour chaque archive,
  le titulaire publie dans sortant/ une notification de réception (acceptée, ou rejetée avec ses motifs), puis
  envoie un seul retour par archive acceptée, avec toutes les métadonnées du manifeste et l'UID de chaque pièce,
  sur le canal convenu : l'API de retour de l'ASP, ou une archive de retour (sortant/<id>.retour.zip) que l'ASP
  acquitte dans entrant/.
  Une archive dangereuse est refusée avec son motif, sans rien extraire hors de son dossier, et ouvre un
  incident signalé par courriel à l'ASP. Les délais sont ceux du contrat de service (modeDossier) ; la
  convention est contracts/archives/v1/CONVENTION.md.

  Contexte:
    Étant donné le serveur de dépôt de l'ASP attend les archives du titulaire
    Et un dossier "RECETTE-DOSSIERS" à l'itération 1

  Plan du scénario: Une archive <format> est notifiée puis reçoit un seul retour, que l'ASP acquitte
    Quand l'ASP dépose une archive "<format>" de deux pièces, dont une de plusieurs documents
    Alors le titulaire publie dans le délai une notification de réception acceptée, conforme à la convention
    Et l'ASP reçoit dans le délai exactement un retour pour l'archive, avec les métadonnées du manifeste et l'UID de chaque pièce
    Et l'ASP acquitte ce retour
    Et le titulaire enregistre l'acquittement de l'ASP dans l'état du dépôt

    Exemples:
      | format |
      | zip    |
      | tar    |
      | tar.gz |

  Scénario: Le retour d'une archive déposé en archive est acquitté par l'ASP, et le titulaire retire l'acquittement
    Étant donné le retour des archives est convenu par archive sur le serveur de dépôt
    Quand l'ASP dépose une archive "zip" de deux pièces, dont une de plusieurs documents
    Alors le titulaire publie dans le délai une notification de réception acceptée, conforme à la convention
    Et l'ASP reçoit dans le délai exactement un retour pour l'archive, avec les métadonnées du manifeste et l'UID de chaque pièce
    Et l'ASP acquitte le retour déposé en archive et le titulaire retire l'acquittement
    Et le titulaire enregistre l'acquittement de l'ASP dans l'état du dépôt

  Scénario: Une archive avec l'option SAE et l'empreinte de ses documents est acceptée
    Étant donné l'option SAE est demandée avec l'empreinte des documents déposés
    Quand l'ASP dépose une archive "zip" de deux pièces, dont une de plusieurs documents
    Alors le titulaire publie dans le délai une notification de réception acceptée, conforme à la convention
    Et l'ASP reçoit dans le délai exactement un retour pour l'archive, avec les métadonnées du manifeste et l'UID de chaque pièce

  Scénario: Une archive dont l'empreinte SAE ne correspond pas à ses documents est refusée
    Étant donné l'option SAE est demandée avec une empreinte qui ne correspond pas aux documents déposés
    Quand l'ASP dépose une archive "tar.gz" de deux pièces, dont une de plusieurs documents
    Alors le titulaire publie dans le délai une notification de rejet de motif "manifeste-non-concordant" pour chaque archive
    Et un courriel d'incident nommant chaque archive refusée alerte l'ASP

  Plan du scénario: Des archives dangereuses sont refusées avec leur motif, un incident et un courriel (<famille>)
    Quand l'ASP dépose les archives dangereuses de la famille "<famille>"
    Alors le titulaire publie dans le délai une notification de rejet du motif attendu pour chaque archive
    Et un courriel d'incident nommant chaque archive refusée alerte l'ASP

    Exemples:
      | famille                           |
      | chemins hors du dossier           |
      | liens et types d'entrée interdits |
      | noms, chiffrement, imbrication    |
      | tailles convenues dépassées       |
      | archives illisibles               |
      | manifestes                        |

  @reference
  Scénario: Une archive qui tente d'écrire hors de son dossier n'y écrit rien
    Quand l'ASP dépose les archives dangereuses de la famille "chemins hors du dossier"
    Alors le titulaire publie dans le délai une notification de rejet du motif attendu pour chaque archive
    Et rien n'est écrit hors du dossier de travail de l'archive

  Scénario: Pendant la conservation, le retour d'une archive est retransmis à l'identique
    Étant donné l'ASP a déposé une archive "zip" et reçu son retour unique
    Quand l'ASP demande la retransmission du retour
    Alors le titulaire accepte de retransmettre le même retour
    Et l'ASP reçoit de nouveau le même retour, reconnu comme une nouvelle livraison sans violation

  Scénario: Passé la durée de conservation, le dépôt d'une archive est expiré
    Étant donné l'ASP a déposé une archive "zip" et reçu son retour unique
    Quand la durée de conservation est dépassée
    Alors la consultation du dépôt répond qu'il a expiré
    Et la retransmission du retour répond que le dépôt a expiré

  @lent
  Scénario: Une transaction de 25 Mo refusée par l'API passe en mode dossier
    Quand l'ASP dépose par l'API une pièce de 25 Mo
    Alors le titulaire refuse le dépôt et renvoie vers le mode dossier
    Quand l'ASP dépose la même pièce dans une archive "tar"
    Alors le titulaire publie dans le délai une notification de réception acceptée, conforme à la convention
    Et l'ASP reçoit dans le délai exactement un retour pour l'archive, avec les métadonnées du manifeste et l'UID de chaque pièce
